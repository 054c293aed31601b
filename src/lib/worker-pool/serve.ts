import {
  type SerializedError,
  serializeError,
  type TaskOutput,
  type TaskRequest,
  type TaskResponse,
} from "./protocol";

/*
 * The worker side of a WorkerPool: one message in, one response out, in order. A handler that
 * throws answers with the encoded error; the worker itself stays up.
 */

export type TaskHandler = (payload: unknown) => TaskOutput | Promise<TaskOutput>;

declare const self: Worker;

export function serveTasks(
  handlers: Record<string, TaskHandler>,
  encodeError: (error: unknown) => SerializedError = (e) => serializeError(e),
): void {
  self.onmessage = async (event: MessageEvent<TaskRequest>) => {
    const { id, type, payload } = event.data;
    let response: TaskResponse;
    let transfer: Bun.Transferable[] = [];
    try {
      const handler = handlers[type];
      if (!handler) throw new Error(`Unknown worker task ${type}`);
      const out = await handler(payload);
      response = { id, ok: true, result: out.result };
      transfer = out.transfer ?? [];
    } catch (error) {
      response = { id, ok: false, error: encodeError(error) };
    }
    self.postMessage(response, transfer);
  };
}
