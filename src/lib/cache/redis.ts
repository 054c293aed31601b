import { RedisClient, type RedisOptions } from "bun";
import { RemoteCache, type RemoteCacheOptions, type RemoteDriver } from "./remote";

/*
 * Redis through Bun's built-in client. Bun's own reconnect and offline queue are switched off:
 * RemoteCache owns the reconnect loop, and a command issued while disconnected must fail at once
 * rather than wait in a queue.
 */

export type ParsedRedisUrl = {
  /* What Bun's client receives: scheme, credentials, host, port and database only. */
  url: string;
  tls: boolean;
  /* false only when the URL explicitly says `ssl_cert_reqs=none` (redis-py syntax). */
  verifyCertificate: boolean;
  db: number;
};

const CERT_NONE = new Set(["none", "cert_none"]);

/*
 * Accepts redis-py style URLs such as the seed's
 * `rediss://host:6380?ssl_cert_reqs=required`. Query parameters are meaningful to redis-py,
 * not to Bun, so they are interpreted here and removed.
 */
export function parseRedisUrl(raw: string): ParsedRedisUrl {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error("REDIS_URL is not a valid URL");
  }
  const scheme = u.protocol.replace(/:$/, "").toLowerCase();
  if (!["redis", "rediss", "valkey", "valkeys"].includes(scheme)) {
    throw new Error(`REDIS_URL must start with redis:// or rediss:// (got ${scheme}://)`);
  }
  const tls = scheme === "rediss" || scheme === "valkeys";
  const certReqs = (u.searchParams.get("ssl_cert_reqs") ?? "").toLowerCase();
  const verifyCertificate = !(tls && CERT_NONE.has(certReqs));

  const pathDb = u.pathname.replace(/^\/+/, "");
  const queryDb = u.searchParams.get("db");
  const dbText = pathDb || queryDb || "0";
  if (!/^\d+$/.test(dbText)) throw new Error(`REDIS_URL database must be a number (got ${dbText})`);
  const db = Number(dbText);

  const auth = u.username || u.password ? `${u.username}${u.password ? `:${u.password}` : ""}@` : "";
  const port = u.port ? `:${u.port}` : "";
  const url = `${tls ? "rediss" : "redis"}://${auth}${u.hostname}${port}/${db}`;
  return { url, tls, verifyCertificate, db };
}

export type RedisDriverOptions = {
  url: string;
  connectTimeoutMs?: number;
  /* Extra TLS settings (e.g. a private CA); verification stays on unless the URL turns it off. */
  tls?: Bun.TLSOptions;
};

export class RedisDriver implements RemoteDriver {
  onDisconnect?: (err: unknown) => void;
  private client: RedisClient | null = null;
  private readonly parsed: ParsedRedisUrl;
  private readonly clientOptions: RedisOptions;
  private readonly scriptShas = new Map<string, string>();

  constructor(options: RedisDriverOptions) {
    this.parsed = parseRedisUrl(options.url);
    let tls: RedisOptions["tls"];
    if (this.parsed.tls || options.tls) {
      tls = {
        ...(options.tls ?? {}),
        ...(this.parsed.verifyCertificate ? {} : { rejectUnauthorized: false }),
      };
    }
    this.clientOptions = {
      autoReconnect: false,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      connectionTimeout: options.connectTimeoutMs ?? 5000,
      ...(tls ? { tls } : {}),
    };
  }

  async connect(): Promise<void> {
    const previous = this.client;
    if (previous) {
      previous.onclose = null;
      previous.close();
    }
    const client = new RedisClient(this.parsed.url, this.clientOptions);
    client.onclose = (err) => {
      if (this.client === client) this.onDisconnect?.(err);
    };
    this.client = client;
    await client.connect();
  }

  async get(key: string): Promise<string | null> {
    return this.c().get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.c().send("SET", [key, value, "PX", String(ttlMs)]);
  }

  async del(key: string): Promise<void> {
    await this.c().send("DEL", [key]);
  }

  async scan(cursor: string, match: string, count: number): Promise<[string, string[]]> {
    const [next, keys] = (await this.c().send("SCAN", [cursor, "MATCH", match, "COUNT", String(count)])) as [
      string,
      string[],
    ];
    return [String(next), keys];
  }

  async unlink(keys: string[]): Promise<number> {
    return Number(await this.c().send("UNLINK", keys));
  }

  /* EVALSHA first so a hot script is not resent every time; EVAL once when the server lacks it. */
  async eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.scriptShas.get(script);
    if (!sha) {
      sha = new Bun.CryptoHasher("sha1").update(script).digest("hex");
      this.scriptShas.set(script, sha);
    }
    try {
      return await this.c().send("EVALSHA", [sha, String(keys.length), ...keys, ...args]);
    } catch (err) {
      if (!/NOSCRIPT/i.test(String((err as Error)?.message))) throw err;
      return this.c().send("EVAL", [script, String(keys.length), ...keys, ...args]);
    }
  }

  async ping(): Promise<void> {
    await this.c().send("PING", []);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) {
      client.onclose = null;
      client.close();
    }
  }

  isCommandError(err: unknown): boolean {
    return (err as { code?: string } | null)?.code === "ERR_REDIS_SERVER_ERROR";
  }

  private c(): RedisClient {
    if (!this.client) throw new Error("redis client is closed");
    return this.client;
  }
}

export type RedisCacheOptions = RemoteCacheOptions & RedisDriverOptions;

export class RedisCache extends RemoteCache {
  constructor(options: RedisCacheOptions) {
    super(
      "redis",
      new RedisDriver({ url: options.url, connectTimeoutMs: options.connectTimeoutMs, tls: options.tls }),
      options,
    );
  }
}

export function createRedisCache(options: RedisCacheOptions): RedisCache {
  return new RedisCache(options);
}
