import type { Config } from "@/config";
import { type AppError, problem } from "@/lib/errors";

/*
 * Body limits of api.md §4.1 stage 3. `Content-Length` is checked before anything is read; bodies
 * without it (chunked) are counted while they stream, so nothing over the limit is ever buffered.
 */

export const JSON_LIMIT_BYTES = 1024 * 1024;
export const CSV_IMPORT_LIMIT_BYTES = 2 * 1024 * 1024;
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

export function uploadLimitBytes(config: Config): number {
  return config.maxFileSizeBytes + MULTIPART_OVERHEAD_BYTES;
}

export function fileTooLarge(config: Config): AppError {
  return problem("FILE_TOO_LARGE", {
    detail: `The upload exceeds the limit of ${config.maxFileSizeMb} MiB.`,
    extensions: { maxBytes: config.maxFileSizeBytes },
  });
}

export function payloadTooLarge(limit: number): AppError {
  return problem("PAYLOAD_TOO_LARGE", {
    detail: `The request body exceeds the limit of ${limit} bytes.`,
    extensions: { maxBytes: limit },
  });
}

export function limitFor(
  config: Config,
  contentType: string | null,
): { limit: number; error: () => AppError } {
  const ct = (contentType ?? "").toLowerCase();
  if (ct.startsWith("multipart/form-data")) {
    return { limit: uploadLimitBytes(config), error: () => fileTooLarge(config) };
  }
  if (ct.startsWith("text/csv"))
    return { limit: CSV_IMPORT_LIMIT_BYTES, error: () => payloadTooLarge(CSV_IMPORT_LIMIT_BYTES) };
  return { limit: JSON_LIMIT_BYTES, error: () => payloadTooLarge(JSON_LIMIT_BYTES) };
}

/** Throws 413 when the declared length is over the limit for this content type. */
export function checkDeclaredLength(config: Config, request: Request): void {
  const declared = request.headers.get("content-length");
  if (declared === null) return;
  const n = Number(declared);
  const { limit, error } = limitFor(config, request.headers.get("content-type"));
  if (Number.isFinite(n) && n > limit) throw error();
}

/** Reads a body stream to bytes, refusing as soon as it passes `limit`. */
export async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  onTooLarge: () => AppError,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw onTooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/* Route templates that take a streamed multipart body; every other route refuses multipart. */
const multipartRoutes = new Set<string>();

export function acceptMultipart(routeTemplate: string): void {
  multipartRoutes.add(routeTemplate);
}

export function acceptsMultipart(routeTemplate: string): boolean {
  return multipartRoutes.has(routeTemplate);
}
