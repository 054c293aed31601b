import { type AppError, problem } from "@/lib/errors";
import { contentDisposition } from "@/lib/file-types";

/*
 * Conditional and range requests at the HTTP edge (RFC 9110 §13.1.2, §14): services describe a
 * stored object and how to open it; the headers, the 304 and the 206 are decided here.
 */

export type ByteRange = { start: number; end: number };

/** A stored object as the edge serves it. `open` streams all of it, or one inclusive byte range. */
export type RangedObject = {
  /** A strong entity tag, quoted. */
  etag: string;
  contentType: string;
  size: number;
  filename: string;
  disposition?: "attachment" | "inline";
  cacheControl?: string;
  open(range?: ByteRange): Promise<ReadableStream<Uint8Array>>;
};

type SetHeaders = { headers: Record<string, string | number> };

/** True when If-None-Match names `etag` (weak or strong comparison) or is `*`. */
export function ifNoneMatch(header: string | null | undefined, etag: string): boolean {
  return (header ?? "").split(",").some((t) => t.trim() === etag || t.trim() === "*");
}

/**
 * The single range a `Range: bytes=…` header asks for within `size` bytes; null without a header.
 * A malformed or unsatisfiable range is refused with 416 and `Content-Range: bytes *\/size`.
 */
export function parseRange(header: string | null | undefined, size: number): ByteRange | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) throw rangeNotSatisfiable(size);
  let start: number;
  let end = size - 1;
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]));
  } else {
    start = Number(m[1]);
    if (m[2] !== "") end = Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) throw rangeNotSatisfiable(size);
  return { start, end };
}

function rangeNotSatisfiable(size: number): AppError {
  return problem("RANGE_NOT_SATISFIABLE", { headers: { "Content-Range": `bytes */${size}` } });
}

/**
 * 304 when If-None-Match matches (nothing is opened), 206 for a single satisfiable Range, else 200.
 * The headers also go into `set`, so the app's defaults (`Cache-Control: no-store`) do not win.
 */
export async function rangedResponse(
  request: Request,
  set: SetHeaders,
  object: RangedObject,
): Promise<Response> {
  const cacheControl = object.cacheControl ?? "private, no-cache";
  if (ifNoneMatch(request.headers.get("if-none-match"), object.etag)) {
    const headers = { ETag: object.etag, "Cache-Control": cacheControl };
    Object.assign(set.headers, headers);
    return new Response(null, { status: 304, headers });
  }
  const range = parseRange(request.headers.get("range"), object.size);
  const body = await object.open(range ?? undefined);
  const { start, end } = range ?? { start: 0, end: object.size - 1 };
  const headers: Record<string, string> = {
    "Content-Type": object.contentType,
    "Content-Disposition": contentDisposition(object.filename, object.disposition),
    ETag: object.etag,
    "Cache-Control": cacheControl,
    "Accept-Ranges": "bytes",
    "Content-Length": String(end - start + 1),
  };
  if (range) headers["Content-Range"] = `bytes ${start}-${end}/${object.size}`;
  Object.assign(set.headers, headers);
  return new Response(body, { status: range ? 206 : 200, headers });
}
