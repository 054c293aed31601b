import type { Subprocess } from "bun";
import type { Logger } from "pino";
import type { Config } from "@/config";

/*
 * WORKERS > 1: this primary process runs N copies of the server sharing the port (reusePort), like
 * the seed's `uvicorn --workers 4`. A crashed worker is restarted with exponential back-off; a
 * SIGTERM/SIGINT is forwarded so every worker drains, and the primary exits when all have.
 * The primary also answers workers' metric requests by gathering every worker's registry, so one
 * scrape of any worker reports the whole host.
 */

export type WorkerMessage =
  | { type: "metrics:request"; id: string }
  | { type: "metrics:data"; id: string; data: unknown }
  | { type: "ready"; port: number };

export type PrimaryMessage =
  | { type: "metrics:collect"; id: string }
  | { type: "metrics:response"; id: string; data: unknown[] };

type Slot = { index: number; proc: Subprocess | null; restarts: number; startedAt: number };

const MAX_BACKOFF_MS = 30_000;
const STABLE_AFTER_MS = 60_000;

/** Arguments that start this same program as a worker, from source or from the compiled binary. */
export function workerCommand(index: number): string[] {
  const compiled = import.meta.path.startsWith("/$bunfs");
  const script = compiled ? [] : [process.argv[1]];
  return [process.execPath, ...script, "serve", "--worker", String(index)];
}

/*
 * Workers run with Bun's header limit above MAX_HEADER_BYTES, so an oversized header is answered
 * by the app (431 problem+json) rather than refused bare by the HTTP server.
 */
export function workerEnv(config: Config): Record<string, string | undefined> {
  const current = process.env.BUN_OPTIONS ?? "";
  if (/--max-http-header-size/.test(current)) return process.env;
  const flag = `--max-http-header-size=${Math.max(64 * 1024, config.maxHeaderBytes * 4)}`;
  return { ...process.env, BUN_OPTIONS: `${current} ${flag}`.trim() };
}

export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  const slots: Slot[] = Array.from({ length: config.workers }, (_, index) => ({
    index,
    proc: null,
    restarts: 0,
    startedAt: 0,
  }));
  let stopping = false;
  const pending = new Map<string, { from: Subprocess; want: number; got: unknown[]; timer: Timer }>();

  const live = () =>
    slots.map((s) => s.proc).filter((p): p is Subprocess => p !== null && p.exitCode === null);

  function reply(id: string) {
    const p = pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    pending.delete(id);
    p.from.send({ type: "metrics:response", id, data: p.got } satisfies PrimaryMessage);
  }

  function onMessage(message: WorkerMessage, from: Subprocess) {
    if (message.type === "metrics:request") {
      const targets = live();
      const timer = setTimeout(() => reply(message.id), 2000);
      pending.set(message.id, { from, want: targets.length, got: [], timer });
      for (const t of targets) t.send({ type: "metrics:collect", id: message.id } satisfies PrimaryMessage);
    } else if (message.type === "metrics:data") {
      const p = pending.get(message.id);
      if (!p) return;
      p.got.push(message.data);
      if (p.got.length >= p.want) reply(message.id);
    }
  }

  function start(slot: Slot) {
    slot.startedAt = Date.now();
    slot.proc = Bun.spawn(workerCommand(slot.index), {
      env: workerEnv(config),
      stdio: ["ignore", "inherit", "inherit"],
      ipc: (message, proc) => onMessage(message as WorkerMessage, proc),
      onExit: (_proc, code, signal) => {
        slot.proc = null;
        if (stopping) return;
        if (Date.now() - slot.startedAt > STABLE_AFTER_MS) slot.restarts = 0;
        const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** slot.restarts);
        slot.restarts++;
        logger.error({ worker: slot.index, code, signal, restartInMs: delay }, "worker exited; restarting");
        setTimeout(() => {
          if (!stopping) start(slot);
        }, delay);
      },
    });
  }

  for (const slot of slots) start(slot);
  logger.info({ workers: config.workers, port: config.port }, "primary started workers");

  await new Promise<void>((resolve) => {
    const stop = async (signal: "SIGTERM" | "SIGINT") => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "primary forwarding shutdown to workers");
      const procs = live();
      for (const p of procs) p.kill(signal);
      const deadline = Bun.sleep((config.shutdownTimeoutS + 5) * 1000);
      await Promise.race([Promise.all(procs.map((p) => p.exited)), deadline]);
      for (const p of live()) p.kill("SIGKILL");
      resolve();
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
  });
  logger.info("primary stopped");
}
