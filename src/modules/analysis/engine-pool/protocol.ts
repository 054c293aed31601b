/*
 * What crosses the worker boundary for the analysis engine: task payloads, EngineErrors as data
 * (rebuilt on the main thread so the 422 bodies stay identical) and the buffers of a frame, which
 * move instead of being copied.
 */

import {
  EngineError,
  type EngineExtensions,
  type EngineFieldError,
  type Frame,
  type ReadOptions,
} from "@/engine";
import type { SerializedError } from "@/lib/worker-pool";
import { serializeError } from "@/lib/worker-pool";

export type RegisterTask = { bytes: Uint8Array; kind: string; options: ReadOptions };
export type ParseSheetTask = RegisterTask & { sheetName: string; axes: string[] | undefined };

type EngineErrorData = {
  engine: {
    code: string;
    status: number;
    detail: string;
    extensions: EngineExtensions;
    errors: EngineFieldError[];
  };
};

export function encodeError(error: unknown): SerializedError {
  if (error instanceof EngineError) {
    const { code, status, detail, extensions, errors } = error;
    return serializeError(error, { engine: { code, status, detail, extensions, errors } });
  }
  return serializeError(error);
}

export function decodeError(error: SerializedError): Error {
  const engine = (error.data as EngineErrorData | undefined)?.engine;
  if (engine) {
    return new EngineError(engine.code, engine.status, engine.detail, engine.extensions, engine.errors);
  }
  return Object.assign(new Error(`Analysis worker: ${error.message}`), { name: error.name });
}

/** The distinct ArrayBuffers under a frame's typed arrays (steps share arrays between frames). */
export function frameBuffers(frames: Frame[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (a: ArrayBufferView) => {
    if (a.buffer instanceof ArrayBuffer) out.add(a.buffer);
  };
  for (const f of frames) {
    for (const col of f.axes) add(col.codes);
    add(f.subject.codes);
    add(f.kinds);
    add(f.values);
  }
  return [...out];
}

/**
 * The bytes to post: moved when the view covers its whole buffer (the caller gives them up),
 * otherwise copied so that a view into a larger buffer never detaches someone else's memory.
 */
export function movableBytes(bytes: Uint8Array): { bytes: Uint8Array; transfer: ArrayBuffer[] } {
  const whole =
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength;
  const own = whole ? bytes : bytes.slice();
  return { bytes: own, transfer: [own.buffer as ArrayBuffer] };
}
