/*
 * Analysis parsing off the HTTP event loop (analysis.md §1.7, §3.9): the file entry points of the
 * engine, run in a pool of Bun workers. Results are the objects the in-process functions return;
 * EngineErrors arrive as EngineErrors, so callers and 422 bodies cannot tell the difference.
 */
import {
  parseFileSheet,
  type ReadOptions,
  type Registration,
  registerFile,
  type SelectedInput,
} from "@/engine";
import { problem } from "@/lib/errors";
import { WorkerPool, WorkerPoolError } from "@/lib/worker-pool";
import { decodeError, movableBytes, type ParseSheetTask, type RegisterTask } from "./protocol";

export type FileParser = {
  /** `bytes` may be moved to a worker: the caller must not use them afterwards. */
  registerFile(
    bytes: Uint8Array,
    kind: string,
    options?: ReadOptions,
    signal?: AbortSignal,
  ): Promise<Registration>;
  parseFileSheet(
    bytes: Uint8Array,
    kind: string,
    sheetName: string,
    axes: string[] | undefined,
    options?: ReadOptions,
    signal?: AbortSignal,
  ): Promise<SelectedInput>;
};

export const inProcessParser: FileParser = {
  registerFile: (bytes, kind, options) => registerFile(bytes, kind, options),
  parseFileSheet: (bytes, kind, sheetName, axes, options) =>
    parseFileSheet(bytes, kind, sheetName, axes, options),
};

/*
 * The compiled binary embeds the worker under its path relative to the build root (`--root src`
 * in package.json); from source it sits beside this file.
 */
const COMPILED_WORKER = "/$bunfs/root/modules/analysis/engine-pool/worker.ts";
export const workerEntry = (): string | URL =>
  import.meta.path.startsWith("/$bunfs") ? COMPILED_WORKER : new URL("./worker.ts", import.meta.url);

export type EnginePoolOptions = {
  size: number;
  /** Inputs up to this many bytes are parsed in process: a worker round trip costs more than they do. */
  inProcessMaxBytes?: number;
  timeoutMs?: number;
  maxQueue?: number;
};

export const PARSE_TIMEOUT_MS = 120_000;
export const IN_PROCESS_MAX_BYTES = 0;

export class EnginePool implements FileParser {
  readonly workers: WorkerPool;
  private readonly inProcessMaxBytes: number;

  constructor(options: EnginePoolOptions) {
    this.inProcessMaxBytes = options.inProcessMaxBytes ?? IN_PROCESS_MAX_BYTES;
    this.workers = new WorkerPool({
      url: workerEntry(),
      size: options.size,
      maxQueue: options.maxQueue,
      timeoutMs: options.timeoutMs ?? PARSE_TIMEOUT_MS,
      decodeError,
      name: "analysis worker pool",
    });
  }

  registerFile(bytes: Uint8Array, kind: string, options: ReadOptions = {}, signal?: AbortSignal) {
    if (bytes.byteLength <= this.inProcessMaxBytes) return registerFile(bytes, kind, options);
    const moved = movableBytes(bytes);
    const task: RegisterTask = { bytes: moved.bytes, kind, options };
    return this.run<Registration>("register", task, moved.transfer, signal);
  }

  parseFileSheet(
    bytes: Uint8Array,
    kind: string,
    sheetName: string,
    axes: string[] | undefined,
    options: ReadOptions = {},
    signal?: AbortSignal,
  ) {
    if (bytes.byteLength <= this.inProcessMaxBytes) {
      return parseFileSheet(bytes, kind, sheetName, axes, options);
    }
    const moved = movableBytes(bytes);
    const task: ParseSheetTask = { bytes: moved.bytes, kind, sheetName, axes, options };
    return this.run<SelectedInput>("parseSheet", task, moved.transfer, signal);
  }

  close(): Promise<void> {
    return this.workers.close();
  }

  private async run<T>(type: string, payload: unknown, transfer: Bun.Transferable[], signal?: AbortSignal) {
    try {
      return await this.workers.run<T>(type, payload, { transfer, signal });
    } catch (error) {
      if (error instanceof WorkerPoolError && (error.reason === "busy" || error.reason === "timeout")) {
        throw problem("DEPENDENCY_UNAVAILABLE", {
          detail: `The analysis workers are unavailable: ${error.message}`,
          headers: { "Retry-After": "5" },
          cause: error,
        });
      }
      throw error;
    }
  }
}
