/*
 * The baseline for `bun run bench`: bare `Bun.serve` with no framework, middleware or I/O.
 * `/health` answers with exactly the bytes the service's `/health` returned (passed in by the
 * runner through RAW_HEALTH_BODY), `/json200` with a 200-byte JSON document, so the ratio column
 * shows what the framework and the request pipeline cost.
 */

const JSON_HEADERS = { "content-type": "application/json" };

/** A JSON object of exactly `size` bytes. */
export function jsonOfSize(size: number): string {
  const skeleton = JSON.stringify({ status: "ok", pad: "" });
  return JSON.stringify({ status: "ok", pad: "x".repeat(Math.max(0, size - skeleton.length)) });
}

export const JSON200 = jsonOfSize(200);

export function startRawServer(options: { port: number; hostname?: string; healthBody?: string }) {
  const health = options.healthBody ?? JSON.stringify({ status: "ok" });
  return Bun.serve({
    port: options.port,
    hostname: options.hostname ?? "127.0.0.1",
    routes: {
      "/health": () => new Response(health, { headers: JSON_HEADERS }),
      "/json200": () => new Response(JSON200, { headers: JSON_HEADERS }),
    },
    fetch: () => new Response("not found", { status: 404 }),
  });
}

if (import.meta.main) {
  const server = startRawServer({
    port: Number(process.env.PORT ?? 0),
    hostname: process.env.HOST ?? "127.0.0.1",
    healthBody: process.env.RAW_HEALTH_BODY,
  });
  console.log(`raw server listening on ${server.url}`);
}
