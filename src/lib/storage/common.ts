import { type ByteRange, type StorageBody, StorageKeyError, StorageRangeError } from "./types";

/* Helpers shared by both backends: key validation, body iteration and range arithmetic. */

/* Name prefix of the partial files a local write streams into before its rename. */
export const TEMP_MARKER = ".~tmp-";

const MAX_KEY_LENGTH = 1024;
/* C0/C1 controls and DEL: NUL is the dangerous one, the rest have no business in a key. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

function checkPlain(original: string, candidate: string, allowTrailingSlash: boolean): void {
  if (hasControl(candidate)) throw new StorageKeyError(original, "control characters are not allowed");
  if (candidate.includes("\\")) throw new StorageKeyError(original, "backslashes are not allowed");
  if (candidate.startsWith("/")) throw new StorageKeyError(original, "absolute paths are not allowed");
  if (/^[A-Za-z]:/.test(candidate)) throw new StorageKeyError(original, "drive letters are not allowed");
  const segments = candidate.split("/");
  if (allowTrailingSlash && segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
  for (const s of segments) {
    if (s === "") throw new StorageKeyError(original, "empty path segments are not allowed");
    if (s === "." || s === "..") throw new StorageKeyError(original, "dot segments are not allowed");
    if (s.startsWith(TEMP_MARKER)) throw new StorageKeyError(original, "reserved name");
  }
}

/*
 * A key is a relative `/`-separated path of plain segments. It is checked as given and again
 * after each level of percent-decoding, so `%2e%2e/` or a double-encoded `%252e%252e` cannot
 * become a traversal in some later layer that decodes it.
 */
export function assertValidKey(key: string, kind: "key" | "prefix" = "key"): void {
  if (typeof key !== "string") throw new StorageKeyError(String(key), "not a string");
  if (kind === "prefix" && key === "") return;
  if (key.length === 0) throw new StorageKeyError(key, "empty");
  if (key.length > MAX_KEY_LENGTH) throw new StorageKeyError(key.slice(0, 64), "too long");
  const allowTrailingSlash = kind === "prefix";
  let current = key;
  for (let i = 0; i < 4; i++) {
    checkPlain(key, current, allowTrailingSlash);
    if (!current.includes("%")) return;
    let decoded: string;
    try {
      decoded = decodeURIComponent(current);
    } catch {
      throw new StorageKeyError(key, "malformed percent-encoding");
    }
    if (decoded === current) return;
    current = decoded;
  }
  throw new StorageKeyError(key, "too many levels of percent-encoding");
}

const encoder = new TextEncoder();

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return encoder.encode(chunk);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError("storage body chunks must be bytes or strings");
}

/*
 * Yields the body chunk by chunk. When the consumer stops early (size limit, write failure) the
 * source stream is cancelled, so an upload being refused stops being read.
 */
export async function* bodyChunks(body: StorageBody): AsyncGenerator<Uint8Array> {
  if (typeof body === "string") {
    yield encoder.encode(body);
    return;
  }
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      if (value !== undefined) yield toBytes(value);
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

export type ResolvedRange = { start: number; end: number; length: number; partial: boolean };

/* Inclusive offsets; `end` is clamped to the last byte; an empty object has only the full "range". */
export function resolveRange(size: number, range?: ByteRange): ResolvedRange {
  if (!range || (range.start === undefined && range.end === undefined)) {
    return { start: 0, end: size - 1, length: size, partial: false };
  }
  const start = range.start ?? 0;
  if (!Number.isInteger(start) || start < 0 || start >= size) throw new StorageRangeError(size, start);
  const requestedEnd = range.end ?? size - 1;
  if (!Number.isInteger(requestedEnd) || requestedEnd < start) throw new StorageRangeError(size, start);
  const end = Math.min(requestedEnd, size - 1);
  return { start, end, length: end - start + 1, partial: true };
}

export function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.close();
    },
  });
}
