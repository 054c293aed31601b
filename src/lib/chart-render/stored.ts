import type { Storage } from "@/lib/storage";

/* A rendered PNG kept in storage under a content-addressed key: rendered on the first request,
 * read back on every later one. Analysis charts and driver-tree pictures both go through here. */

export type StoredPng = {
  body: Uint8Array | ReadableStream<Uint8Array>;
  contentType: "image/png";
  length: number;
};

export async function storedPng(
  storage: Storage,
  key: string,
  render: () => Promise<Uint8Array>,
): Promise<StoredPng> {
  const stored = await storage.head("analysis", key).catch(() => null);
  if (stored) {
    const object = await storage.get("analysis", key);
    return { body: object.stream, contentType: "image/png", length: object.size };
  }
  const png = await render();
  await storage.put("analysis", key, png, { contentType: "image/png" });
  return { body: png, contentType: "image/png", length: png.byteLength };
}
