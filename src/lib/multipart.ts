/*
 * Streaming multipart/form-data reader. Uploads are never buffered whole: text fields are read
 * into small strings, and the file part is handed out as a ReadableStream that is fed as bytes
 * arrive. Only what is needed to find the next boundary is held in memory.
 *
 * Kept instead of a library (evaluated for issue 15): `@remix-run/multipart-parser` (web streams)
 * buffers each part whole (`part.bytes`, `maxFileSize`), so a 100 MiB upload would sit in memory;
 * `busboy` / `@fastify/busboy` stream, but push Node streams and events, so the pull order this
 * reader gives (the body is read only as fast as storage takes the file part, and an unread part
 * is skipped) would be rebuilt around them with two stream adapters — more code than this file.
 */

export type MultipartPart = {
  name: string;
  filename: string | null;
  contentType: string | null;
  /** Present for file parts; must be consumed (or cancelled) before the next part is read. */
  stream: ReadableStream<Uint8Array>;
};

export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MultipartError";
  }
}

type ChunkReader = { read(): Promise<{ done: boolean; value?: Uint8Array }> };

const CRLF = new Uint8Array([13, 10]);
const encoder = new TextEncoder();
const MAX_HEADER_BYTES = 16 * 1024;

export function boundaryOf(contentType: string | null): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary || boundary.length > 200) throw new MultipartError("multipart body without a valid boundary");
  return boundary;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  const last = haystack.length - needle.length;
  outer: for (let i = from; i <= last; i++) {
    if (haystack[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(a: Uint8Array<ArrayBufferLike>, b: Uint8Array<ArrayBufferLike>): Uint8Array<ArrayBufferLike> {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/* RFC 7578 filename*: prefer the extended (UTF-8) form when given. */
function parseDisposition(value: string): { name: string | null; filename: string | null } {
  const param = (key: string) => {
    const quoted = new RegExp(`(?:^|;)\\s*${key}="((?:[^"\\\\]|\\\\.)*)"`, "i").exec(value);
    if (quoted) return quoted[1].replace(/\\(.)/g, "$1");
    const bare = new RegExp(`(?:^|;)\\s*${key}=([^;]+)`, "i").exec(value);
    return bare ? bare[1].trim() : null;
  };
  const extended = param("filename\\*");
  let filename = param("filename");
  if (extended) {
    const m = /^([^']*)'[^']*'(.*)$/.exec(extended);
    if (m) {
      try {
        filename = decodeURIComponent(m[2]);
      } catch {
        /* keep the plain filename */
      }
    }
  }
  return { name: param("name"), filename };
}

/**
 * Iterates the parts of a multipart body. The caller must finish (or cancel) each part's stream
 * before asking for the next part, which is how the body keeps flowing without buffering.
 */
export async function* readMultipart(
  body: ReadableStream<Uint8Array>,
  contentType: string | null,
): AsyncGenerator<MultipartPart> {
  const reader = body.getReader();
  try {
    yield* parts(reader, contentType);
  } finally {
    // Stops the upload from being read any further once the caller is done or has failed.
    await reader.cancel().catch(() => {});
  }
}

async function* parts(reader: ChunkReader, contentType: string | null): AsyncGenerator<MultipartPart> {
  const boundary = boundaryOf(contentType);
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  // A leading CRLF makes the first delimiter look like every later one.
  let buffer: Uint8Array<ArrayBufferLike> = CRLF;
  let done = false;

  const pull = async (): Promise<boolean> => {
    if (done) return false;
    const r = await reader.read();
    if (r.done || !r.value) {
      done = true;
      return false;
    }
    buffer = concat(buffer, r.value);
    return true;
  };

  // Skip the preamble up to the first delimiter.
  for (;;) {
    const at = indexOf(buffer, delimiter);
    if (at >= 0) {
      buffer = buffer.subarray(at + delimiter.length);
      break;
    }
    if (buffer.length > delimiter.length) buffer = buffer.subarray(buffer.length - delimiter.length);
    if (!(await pull())) throw new MultipartError("multipart body has no opening boundary");
  }

  for (;;) {
    while (buffer.length < 2) if (!(await pull())) throw new MultipartError("multipart body ended early");
    if (buffer[0] === 45 && buffer[1] === 45) return;
    let headerEnd = indexOf(buffer, encoder.encode("\r\n\r\n"));
    while (headerEnd < 0) {
      if (buffer.length > MAX_HEADER_BYTES) throw new MultipartError("multipart part headers are too large");
      if (!(await pull())) throw new MultipartError("multipart part headers are incomplete");
      headerEnd = indexOf(buffer, encoder.encode("\r\n\r\n"));
    }
    const headerText = new TextDecoder().decode(buffer.subarray(0, headerEnd));
    buffer = buffer.subarray(headerEnd + 4);
    const headers = new Map<string, string>();
    for (const line of headerText.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const disposition = parseDisposition(headers.get("content-disposition") ?? "");
    if (!disposition.name) throw new MultipartError("multipart part without a name");

    let finished = false;
    const stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          const at = indexOf(buffer, delimiter);
          if (at >= 0) {
            if (at > 0) controller.enqueue(buffer.slice(0, at));
            buffer = buffer.subarray(at + delimiter.length);
            finished = true;
            controller.close();
            return;
          }
          // Everything except a possible partial delimiter at the end can be handed on.
          const safe = buffer.length - delimiter.length;
          if (safe > 0) {
            controller.enqueue(buffer.slice(0, safe));
            buffer = buffer.subarray(safe);
            return;
          }
          if (!(await pull())) {
            controller.error(new MultipartError("multipart body ended inside a part"));
            return;
          }
        }
      },
      // A consumer that gives up (an aborted upload) must not make us read the rest of the body.
      cancel: () => {},
    });

    yield {
      name: disposition.name,
      filename: disposition.filename,
      contentType: headers.get("content-type") ?? null,
      stream,
    };
    // The consumer moved on without reading the whole part: skip to the next delimiter.
    while (!finished) {
      const at = indexOf(buffer, delimiter);
      if (at >= 0) {
        buffer = buffer.subarray(at + delimiter.length);
        finished = true;
        break;
      }
      if (buffer.length > delimiter.length) buffer = buffer.subarray(buffer.length - delimiter.length);
      if (!(await pull())) throw new MultipartError("multipart body ended inside a part");
    }
  }
}

/** Reads a small text part (a form field) with a byte cap. */
export async function readTextPart(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> {
  const reader = stream.getReader();
  let out: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    out = concat(out, value);
    if (out.length > maxBytes) {
      await reader.cancel();
      throw new MultipartError(`form field is longer than ${maxBytes} bytes`);
    }
  }
  return new TextDecoder().decode(out);
}
