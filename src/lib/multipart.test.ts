import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { MultipartError, readMultipart, readTextPart } from "./multipart";

const enc = new TextEncoder();

function body(parts: { name: string; filename?: string; data: Uint8Array | string }[], boundary = "XyZ123") {
  const chunks: Uint8Array[] = [enc.encode("preamble\r\n")];
  for (const p of parts) {
    const fname =
      p.filename === undefined
        ? ""
        : `; filename="${p.filename}"; filename*=UTF-8''${encodeURIComponent(p.filename)}`;
    chunks.push(
      enc.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${fname}\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
    );
    chunks.push(typeof p.data === "string" ? enc.encode(p.data) : p.data);
    chunks.push(enc.encode("\r\n"));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function streamOf(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    if (p > prev) pieces.push(bytes.slice(prev, p));
    prev = p;
  }
  return new ReadableStream({
    pull(c) {
      const next = pieces.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>) {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("streaming multipart reader", () => {
  test("fields and a file, with a Unicode filename", async () => {
    const bytes = body([
      { name: "comment", data: "hello" },
      { name: "file", filename: "売上 2024.xlsx", data: new Uint8Array([0, 1, 2, 13, 10, 45, 45, 255]) },
    ]);
    const seen: Record<string, unknown> = {};
    for await (const part of readMultipart(
      streamOf(bytes, [7, 50, 51, 120]),
      "multipart/form-data; boundary=XyZ123",
    )) {
      if (part.filename)
        seen[part.name] = { filename: part.filename, data: [...(await collect(part.stream))] };
      else seen[part.name] = await readTextPart(part.stream, 100);
    }
    expect(seen).toEqual({
      comment: "hello",
      file: { filename: "売上 2024.xlsx", data: [0, 1, 2, 13, 10, 45, 45, 255] },
    });
  });

  test("any chunking yields the same bytes (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat(4000), { maxLength: 30 }),
        async (data, cuts) => {
          const bytes = body([{ name: "file", filename: "a.bin", data }]);
          const parts: Uint8Array[] = [];
          for await (const part of readMultipart(
            streamOf(bytes, cuts),
            'multipart/form-data; boundary="XyZ123"',
          )) {
            parts.push(await collect(part.stream));
          }
          expect(parts).toHaveLength(1);
          expect([...parts[0]]).toEqual([...data]);
        },
      ),
      { numRuns: 150 },
    );
  });

  test("an unread part is skipped so the next one is still read", async () => {
    const bytes = body([
      { name: "skip", filename: "x.bin", data: "x".repeat(5000) },
      { name: "keep", data: "ok" },
    ]);
    const names: string[] = [];
    let kept = "";
    for await (const part of readMultipart(
      streamOf(bytes, [100, 2000]),
      "multipart/form-data; boundary=XyZ123",
    )) {
      names.push(part.name);
      if (part.name === "keep") kept = await readTextPart(part.stream, 10);
    }
    expect(names).toEqual(["skip", "keep"]);
    expect(kept).toBe("ok");
  });

  test("truncated bodies and missing boundaries are errors", async () => {
    const bytes = body([{ name: "file", filename: "a", data: "abc" }]);
    const truncated = bytes.slice(0, bytes.length - 20);
    const run = async (b: Uint8Array, ct: string) => {
      for await (const part of readMultipart(streamOf(b, []), ct)) await collect(part.stream);
    };
    await expect(run(truncated, "multipart/form-data; boundary=XyZ123")).rejects.toBeInstanceOf(
      MultipartError,
    );
    await expect(run(bytes, "multipart/form-data")).rejects.toBeInstanceOf(MultipartError);
    await expect(
      run(enc.encode("no boundary here"), "multipart/form-data; boundary=XyZ123"),
    ).rejects.toBeInstanceOf(MultipartError);
  });
});
