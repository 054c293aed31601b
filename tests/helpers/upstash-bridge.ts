import { RedisClient, type Server } from "bun";

/*
 * A loopback stand-in for Upstash's REST API, forwarding to a real Redis, so the Upstash backend
 * is tested against the wire protocol `@upstash/redis` actually speaks (read from its source):
 *   POST /            body ["CMD", ...args]         → { result } | 400 { error }
 *   POST /pipeline    body [["CMD", ...], ...]      → [{ result } | { error }, ...]
 *   POST /multi-exec  same body, run in MULTI/EXEC  → [{ result } | { error }, ...]
 * `Authorization: Bearer <token>` is required; `Upstash-Encoding: base64` asks for every string
 * in a result to be base64-encoded (the SDK's default).
 */

export type UpstashBridge = {
  url: string;
  token: string;
  port: number;
  requests: () => number;
  /* Stops listening (the port refuses connections) and can come back on the same port. */
  stop(): Promise<void>;
  start(): void;
  close(): Promise<void>;
};

type Reply = { result: unknown } | { error: string };

function normalise(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (Array.isArray(v)) return v.map(normalise);
  // RESP3 maps arrive as objects; Upstash answers with RESP2-style flat arrays.
  if (typeof v === "object")
    return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => [k, normalise(x)]);
  return v;
}

function encode(v: unknown): unknown {
  if (typeof v === "string") return Buffer.from(v, "utf8").toString("base64");
  if (Array.isArray(v)) return v.map(encode);
  return v;
}

export async function startUpstashBridge(
  redisUrl: string,
  token = `tok-${crypto.randomUUID()}`,
): Promise<UpstashBridge> {
  let client: RedisClient | null = null;
  let count = 0;

  const shared = async (): Promise<RedisClient> => {
    if (client?.connected) return client;
    client?.close();
    client = new RedisClient(redisUrl, {
      autoReconnect: false,
      enableOfflineQueue: false,
      connectionTimeout: 2000,
    });
    await client.connect();
    return client;
  };

  const run = async (c: RedisClient, cmd: unknown[]): Promise<Reply> => {
    if (!Array.isArray(cmd) || cmd.length === 0) return { error: "ERR empty command" };
    const [name, ...args] = cmd.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
    try {
      return { result: normalise(await c.send(name, args)) };
    } catch (err) {
      if ((err as { code?: string }).code !== "ERR_REDIS_SERVER_ERROR") throw err;
      return { error: (err as Error).message };
    }
  };

  const handle = async (req: Request): Promise<Response> => {
    count++;
    if (req.method !== "POST") return Response.json({ error: "method not allowed" }, { status: 405 });
    if (req.headers.get("authorization") !== `Bearer ${token}`) {
      return Response.json({ error: "Unauthorized" }, { status: 401 });
    }
    const base64 = req.headers.get("upstash-encoding")?.toLowerCase() === "base64";
    const out = (r: Reply) => ("result" in r && base64 ? { result: encode(r.result) } : r);
    const path = new URL(req.url).pathname.replace(/\/+$/, "");
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      return Response.json({ error: "ERR invalid JSON body" }, { status: 400 });
    }
    try {
      if (path === "") {
        const r = await run(await shared(), body as unknown[]);
        return Response.json(out(r), { status: "error" in r ? 400 : 200 });
      }
      if (path === "/pipeline") {
        const c = await shared();
        const replies: Reply[] = [];
        for (const cmd of body as unknown[][]) replies.push(await run(c, cmd));
        return Response.json(replies.map(out));
      }
      if (path === "/multi-exec") {
        // A transaction needs a connection of its own: the shared one interleaves requests.
        const c = new RedisClient(redisUrl, { autoReconnect: false, enableAutoPipelining: false });
        try {
          await c.connect();
          await c.send("MULTI", []);
          for (const cmd of body as unknown[][]) {
            const [name, ...args] = cmd.map(String);
            await c.send(name, args);
          }
          const results = (await c.send("EXEC", [])) as unknown[];
          return Response.json(results.map((r) => out({ result: normalise(r) })));
        } finally {
          c.close();
        }
      }
      return Response.json({ error: "ERR unknown path" }, { status: 404 });
    } catch (err) {
      return Response.json({ error: `bridge: ${(err as Error).message}` }, { status: 502 });
    }
  };

  let server: Server<undefined> | null = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handle });
  const port = server.port as number;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    port,
    requests: () => count,
    async stop() {
      await server?.stop(true);
      server = null;
    },
    start() {
      server ??= Bun.serve({ hostname: "127.0.0.1", port, fetch: handle });
    },
    async close() {
      await server?.stop(true);
      server = null;
      client?.close();
      client = null;
    },
  };
}
