import type { Config } from "@/config";
import { type AppError, problem } from "@/lib/errors";
import { pathOf, requestContext } from "@/plugins/request-context";

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

/* The one multipart route with its own, smaller cap: the user CSV import (2 MiB file). */
export const CSV_IMPORT_PATH = "/api/v1/admin/bulk/users/import";

export function limitFor(
  config: Config,
  contentType: string | null,
  path?: string,
): { limit: number; error: () => AppError } {
  const ct = (contentType ?? "").toLowerCase();
  if (ct.startsWith("multipart/form-data") && path === CSV_IMPORT_PATH) {
    return {
      limit: CSV_IMPORT_LIMIT_BYTES + MULTIPART_OVERHEAD_BYTES,
      error: () => payloadTooLarge(CSV_IMPORT_LIMIT_BYTES),
    };
  }
  if (ct.startsWith("multipart/form-data")) {
    return { limit: uploadLimitBytes(config), error: () => fileTooLarge(config) };
  }
  if (ct.startsWith("text/csv"))
    return { limit: CSV_IMPORT_LIMIT_BYTES, error: () => payloadTooLarge(CSV_IMPORT_LIMIT_BYTES) };
  return { limit: JSON_LIMIT_BYTES, error: () => payloadTooLarge(JSON_LIMIT_BYTES) };
}

/*
 * Refusals the HTTP server itself would otherwise make with a bare status: the app answers them
 * as problem+json first. Bun's own header limit (--max-http-header-size, 16 KiB unless raised
 * through BUN_OPTIONS) must stay above MAX_HEADER_BYTES for this check to be the one that answers.
 */
export function checkHeaderSize(config: Config, request: Request): void {
  // Request line ("METHOD URL HTTP/1.1\r\n") plus "name: value\r\n" per field.
  let bytes = request.method.length + request.url.length + 12;
  request.headers.forEach((value, name) => {
    bytes += name.length + value.length + 4;
  });
  if (bytes > config.maxHeaderBytes) {
    throw problem("HEADERS_TOO_LARGE", {
      detail: `The request line and header fields exceed ${config.maxHeaderBytes} bytes.`,
      extensions: { maxBytes: config.maxHeaderBytes },
      headers: { Connection: "close" },
    });
  }
}

export const requestTimedOut = (): AppError =>
  problem("REQUEST_TIMEOUT", {
    detail: "The request body did not arrive within the time limit.",
    headers: { Connection: "close" },
  });

/* One read of the body, failing with 408 once the request's deadline has passed. */
type ChunkReader = {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
};

async function readBefore(
  reader: ChunkReader,
  deadlineAt: number | undefined,
): Promise<Awaited<ReturnType<ChunkReader["read"]>>> {
  if (deadlineAt === undefined) return reader.read();
  const left = deadlineAt - performance.now();
  if (left <= 0) {
    await reader.cancel().catch(() => {});
    throw requestTimedOut();
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(requestTimedOut()), left);
  });
  try {
    return await Promise.race([reader.read(), late]);
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The request body as a stream that errors with 408 when the request's deadline passes. */
export function bodyBeforeDeadline(request: Request): ReadableStream<Uint8Array> | null {
  const body = request.body;
  if (!body) return null;
  const deadlineAt = requestContext(request).deadlineAt;
  if (deadlineAt === undefined) return body;
  // Locked on first read, not here: a handler that refuses the request by its headers never reads,
  // and a body the JSON parser already consumed must not fail before that refusal.
  let reader: ChunkReader | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        reader ??= body.getReader() as ChunkReader;
        const { done, value } = await readBefore(reader, deadlineAt);
        if (done || !value) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      return reader?.cancel(reason) ?? body.cancel(reason).catch(() => {});
    },
  });
}

/** Throws 413 when the declared length is over the limit for this content type. */
export function checkDeclaredLength(config: Config, request: Request): void {
  const declared = request.headers.get("content-length");
  if (declared === null) return;
  const n = Number(declared);
  const { limit, error } = limitFor(config, request.headers.get("content-type"), pathOf(request));
  if (Number.isFinite(n) && n > limit) throw error();
}

/** Reads a body stream to bytes, refusing as soon as it passes `limit`. */
export async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  onTooLarge: () => AppError,
  deadlineAt?: number,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await readBefore(reader, deadlineAt);
    if (done || !value) break;
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

type DeclaredRoute = { path: string; hooks?: { detail?: unknown } };

/*
 * A route takes a streamed multipart body when it documents one (`detail.requestBody` with
 * `multipart/form-data`, as the upload routes do): what the docs promise is what the parser
 * accepts. Every other route refuses multipart.
 */
export function acceptsMultipart(route: DeclaredRoute): boolean {
  const detail = route.hooks?.detail as { requestBody?: { content?: Record<string, unknown> } } | undefined;
  return detail?.requestBody?.content?.["multipart/form-data"] !== undefined;
}

/** The templates of an app's multipart routes, for the parser's per-request lookup. */
export const multipartRoutes = (routes: readonly DeclaredRoute[]): ReadonlySet<string> =>
  new Set(routes.filter(acceptsMultipart).map((r) => r.path));
