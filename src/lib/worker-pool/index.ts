import type { SerializedError, TaskRequest, TaskResponse } from "./protocol";

export type { SerializedError, TaskOutput } from "./protocol";
export { serializeError } from "./protocol";

/*
 * A fixed-size pool of Bun workers with a bounded queue. Workers start on first use and hold the
 * process open only while they run a task. A running task cannot be interrupted inside the worker
 * (the CPU-bound code never yields), so timeout and abort terminate that worker; a crash does the
 * same, and the next task that needs a worker starts a fresh one.
 */

export type WorkerPoolErrorReason = "busy" | "timeout" | "aborted" | "crashed" | "closed";

export class WorkerPoolError extends Error {
  constructor(
    readonly reason: WorkerPoolErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "WorkerPoolError";
  }
}

export type WorkerPoolOptions = {
  /** The worker entry (a path or URL `new Worker` accepts). */
  url: string | URL;
  size: number;
  /** Tasks waiting for a worker beyond this many are refused with reason `busy`. */
  maxQueue?: number;
  /** Default per-task timeout; 0 = none. */
  timeoutMs?: number;
  /** Rebuilds an error the worker encoded; default: a plain Error with the worker's message. */
  decodeError?: (error: SerializedError) => Error;
  name?: string;
};

export type RunOptions = {
  transfer?: Bun.Transferable[];
  signal?: AbortSignal;
  timeoutMs?: number;
};

type Task = {
  id: number;
  type: string;
  payload: unknown;
  transfer: Bun.Transferable[];
  timeoutMs: number;
  signal?: AbortSignal;
  onAbort?: () => void;
  timer?: ReturnType<typeof setTimeout>;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
};

type Slot = { worker: Worker; task: Task | null; dead: boolean };

const defaultDecode = (e: SerializedError) => Object.assign(new Error(e.message), { name: e.name });

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private readonly size: number;
  private readonly maxQueue: number;
  private readonly label: string;
  private readonly decode: (error: SerializedError) => Error;
  /** Workers started so far, including replacements: lets tests see that a crash replaced one. */
  spawned = 0;

  constructor(private readonly options: WorkerPoolOptions) {
    this.size = Math.max(1, Math.floor(options.size));
    this.maxQueue = options.maxQueue ?? 64;
    this.label = options.name ?? "worker pool";
    this.decode = options.decodeError ?? defaultDecode;
  }

  get stats() {
    return {
      size: this.size,
      workers: this.slots.length,
      busy: this.slots.filter((s) => s.task).length,
      queued: this.queue.length,
      spawned: this.spawned,
    };
  }

  run<T>(type: string, payload: unknown, options: RunOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new WorkerPoolError("closed", `The ${this.label} is closed.`));
    if (options.signal?.aborted) return Promise.reject(this.abortError(options.signal));
    const canStart = this.slots.some((s) => !s.task) || this.slots.length < this.size;
    if (!canStart && this.queue.length >= this.maxQueue) {
      return Promise.reject(
        new WorkerPoolError("busy", `The ${this.label} is busy (${this.queue.length} tasks waiting).`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const task: Task = {
        id: this.nextId++,
        type,
        payload,
        transfer: options.transfer ?? [],
        timeoutMs: options.timeoutMs ?? this.options.timeoutMs ?? 0,
        signal: options.signal,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      if (task.signal) {
        const signal = task.signal;
        task.onAbort = () => this.abort(task, this.abortError(signal));
        signal.addEventListener("abort", task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Refuses new tasks, fails the waiting ones and terminates every worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) {
      this.settle(task, new WorkerPoolError("closed", `The ${this.label} is closed.`));
    }
    for (const slot of [...this.slots]) {
      if (slot.task) this.settle(slot.task, new WorkerPoolError("closed", `The ${this.label} is closed.`));
      this.kill(slot);
    }
  }

  private abortError(signal: AbortSignal): WorkerPoolError {
    const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : "";
    return new WorkerPoolError("aborted", `The task was aborted${reason}.`);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.task);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      const task = this.queue.shift()!;
      slot.task = task;
      if (task.timeoutMs > 0) {
        task.timer = setTimeout(() => {
          this.fail(
            slot,
            new WorkerPoolError(
              "timeout",
              `The ${task.type} task did not finish within ${task.timeoutMs} ms.`,
            ),
          );
        }, task.timeoutMs);
      }
      slot.worker.ref();
      const request: TaskRequest = { id: task.id, type: task.type, payload: task.payload };
      try {
        slot.worker.postMessage(request, task.transfer);
      } catch (error) {
        slot.task = null;
        slot.worker.unref();
        this.settle(task, error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.options.url);
    const slot: Slot = { worker, task: null, dead: false };
    this.spawned++;
    worker.unref();
    worker.addEventListener("message", (event: MessageEvent<TaskResponse>) => {
      const task = slot.task;
      const message = event.data;
      if (!task || task.id !== message.id) return;
      slot.task = null;
      worker.unref();
      if (message.ok) this.settle(task, null, message.result);
      else this.settle(task, this.decode(message.error));
      this.dispatch();
    });
    worker.addEventListener("error", (event: ErrorEvent) => {
      const detail = event.message || String(event.error ?? "unknown error");
      this.fail(slot, new WorkerPoolError("crashed", `A worker of the ${this.label} failed: ${detail}`));
    });
    worker.addEventListener("close", (event: Event) => {
      if (slot.dead) return;
      const code = (event as Event & { code?: number }).code;
      this.fail(
        slot,
        new WorkerPoolError(
          "crashed",
          `A worker of the ${this.label} exited unexpectedly (code ${code ?? "unknown"}).`,
        ),
      );
    });
    this.slots.push(slot);
    return slot;
  }

  /** The worker's task fails with `error`, the worker goes, and waiting tasks get a new one. */
  private fail(slot: Slot, error: Error): void {
    if (slot.dead) return;
    const task = slot.task;
    slot.task = null;
    this.kill(slot);
    if (task) this.settle(task, error);
    if (!this.closed) this.dispatch();
  }

  private abort(task: Task, error: Error): void {
    const queued = this.queue.indexOf(task);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.settle(task, error);
      return;
    }
    const slot = this.slots.find((s) => s.task === task);
    if (slot) this.fail(slot, error);
  }

  private kill(slot: Slot): void {
    slot.dead = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.worker.terminate();
  }

  private settle(task: Task, error: Error | null, result?: unknown): void {
    if (task.timer) clearTimeout(task.timer);
    if (task.onAbort) task.signal?.removeEventListener("abort", task.onAbort);
    if (error) task.reject(error);
    else task.resolve(result);
  }
}
