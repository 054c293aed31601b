import { errors, Redis } from "@upstash/redis";
import { RemoteCache, type RemoteCacheOptions, type RemoteDriver } from "./remote";

/*
 * Upstash's REST API through `@upstash/redis`. The SDK's own retries are off (RemoteCache has the
 * back-off), values travel as our own JSON text (automatic deserialisation off, so both remote
 * backends store identical bytes), and every request carries an abort deadline so a stalled
 * HTTP call is cut as well as abandoned.
 */

export type UpstashDriverOptions = {
  url: string;
  token: string;
  opTimeoutMs?: number;
};

/* Redis error replies start with an upper-case code (ERR, WRONGTYPE, NOSCRIPT, …). */
const REDIS_ERROR_REPLY = /^(?:Command \d+ \[ \w+ \] failed: )?[A-Z]{3,}[A-Z_]*\b/;

export class UpstashDriver implements RemoteDriver {
  onDisconnect?: (err: unknown) => void;
  private readonly redis: Redis;
  private readonly scriptShas = new Map<string, string>();

  constructor(options: UpstashDriverOptions) {
    const timeoutMs = options.opTimeoutMs ?? 500;
    this.redis = new Redis({
      url: options.url,
      token: options.token,
      retry: false,
      automaticDeserialization: false,
      enableTelemetry: false,
      enableAutoPipelining: false,
      readYourWrites: false,
      // A function, not a signal: the SDK then throws on abort instead of faking a result.
      signal: () => AbortSignal.timeout(timeoutMs + 100),
    });
  }

  async connect(): Promise<void> {
    await this.ping();
  }

  async get(key: string): Promise<string | null> {
    const v = await this.exec<unknown>(["GET", key]);
    return v === null || v === undefined ? null : String(v);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.exec(["SET", key, value, "PX", String(ttlMs)]);
  }

  async del(key: string): Promise<void> {
    await this.exec(["DEL", key]);
  }

  async scan(cursor: string, match: string, count: number): Promise<[string, string[]]> {
    const [next, keys] = await this.exec<[string | number, string[]]>([
      "SCAN",
      cursor,
      "MATCH",
      match,
      "COUNT",
      String(count),
    ]);
    return [String(next), keys ?? []];
  }

  async unlink(keys: string[]): Promise<number> {
    return Number(await this.exec(["UNLINK", ...keys]));
  }

  async eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.scriptShas.get(script);
    if (!sha) {
      sha = new Bun.CryptoHasher("sha1").update(script).digest("hex");
      this.scriptShas.set(script, sha);
    }
    try {
      return await this.exec(["EVALSHA", sha, String(keys.length), ...keys, ...args]);
    } catch (err) {
      if (!/NOSCRIPT/i.test(String((err as Error)?.message))) throw err;
      return this.exec(["EVAL", script, String(keys.length), ...keys, ...args]);
    }
  }

  async ping(): Promise<void> {
    await this.exec(["PING"]);
  }

  async close(): Promise<void> {}

  isCommandError(err: unknown): boolean {
    return err instanceof errors.UpstashError && REDIS_ERROR_REPLY.test(err.message);
  }

  private exec<T = unknown>(command: [string, ...string[]]): Promise<T> {
    return this.redis.exec<T>(command);
  }
}

export type UpstashCacheOptions = RemoteCacheOptions & { url: string; token: string };

export class UpstashCache extends RemoteCache {
  constructor(options: UpstashCacheOptions) {
    super(
      "upstash",
      new UpstashDriver({ url: options.url, token: options.token, opTimeoutMs: options.opTimeoutMs }),
      options,
    );
  }
}

export function createUpstashCache(options: UpstashCacheOptions): UpstashCache {
  return new UpstashCache(options);
}
