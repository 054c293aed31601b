/*
 * Messages between a WorkerPool and its workers. Errors cross the boundary as plain data: the
 * worker's `encodeError` decides what to keep and the pool's `decodeError` rebuilds the class, so
 * `instanceof` checks on the main thread keep working.
 */

export type TaskRequest = { id: number; type: string; payload: unknown };

export type SerializedError = {
  name: string;
  message: string;
  stack?: string;
  /** Whatever the worker's encodeError added (for example an EngineError's code and members). */
  data?: unknown;
};

export type TaskResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: SerializedError };

/** What a task handler returns: the value and the buffers to move rather than copy. */
export type TaskOutput = { result: unknown; transfer?: Bun.Transferable[] };

export function serializeError(error: unknown, data?: unknown): SerializedError {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack, data };
  }
  return { name: "Error", message: String(error), data };
}
