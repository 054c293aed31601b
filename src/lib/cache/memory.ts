import { type Cache, type CacheHooks, type IncrResult, keyPrefix, type PingResult, ttlToMs } from "./types";

/*
 * In-process cache for deployments without Redis. Values are stored as JSON text so callers get
 * the same copy semantics as with Redis (mutating a returned object never changes the cache).
 * A Map's insertion order is the LRU order: a hit re-inserts the entry at the end.
 */

export type MemoryCacheOptions = CacheHooks & {
  appName: string;
  environment: string;
  defaultTtlS?: number;
  maxEntries?: number;
  sweepIntervalMs?: number;
  now?: () => number;
};

type Entry = { json: string; expiresAt: number };

export class MemoryCache implements Cache {
  readonly backend = "memory" as const;
  private readonly entries = new Map<string, Entry>();
  private readonly prefix: string;
  private readonly defaultTtlS: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly hooks: CacheHooks;
  private sweeper: ReturnType<typeof setInterval> | null;

  constructor(options: MemoryCacheOptions) {
    this.prefix = keyPrefix(options.appName, options.environment);
    this.defaultTtlS = options.defaultTtlS ?? 300;
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.now = options.now ?? Date.now;
    this.hooks = { onHit: options.onHit, onMiss: options.onMiss, onError: options.onError };
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000);
    // The sweeper is housekeeping only; it must never keep the process alive.
    this.sweeper.unref?.();
  }

  get size(): number {
    return this.entries.size;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const k = this.prefix + key;
    const entry = this.live(k);
    if (!entry) {
      this.hooks.onMiss?.();
      return undefined;
    }
    this.entries.delete(k);
    this.entries.set(k, entry);
    this.hooks.onHit?.();
    return JSON.parse(entry.json) as T;
  }

  async set(key: string, value: unknown, ttlS?: number): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) return;
    this.store(this.prefix + key, { json, expiresAt: this.now() + ttlToMs(ttlS, this.defaultTtlS) });
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(this.prefix + key);
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    const full = this.prefix + prefix;
    let n = 0;
    for (const k of [...this.entries.keys()]) {
      if (!k.startsWith(full)) continue;
      const live = this.live(k);
      this.entries.delete(k);
      if (live) n++;
    }
    return n;
  }

  async incr(key: string, ttlS: number): Promise<IncrResult> {
    const k = this.prefix + key;
    const now = this.now();
    const entry = this.live(k);
    const previous = entry ? Number(JSON.parse(entry.json)) : 0;
    const count = (Number.isFinite(previous) ? previous : 0) + 1;
    const expiresAt = entry ? entry.expiresAt : now + ttlToMs(ttlS, this.defaultTtlS);
    this.store(k, { json: String(count), expiresAt });
    return { count, ttlMs: Math.max(0, expiresAt - now) };
  }

  async ping(): Promise<PingResult> {
    return { ok: true, latencyMs: 0 };
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    this.entries.clear();
  }

  /* Drops every expired entry; runs on the timer, exposed for tests. */
  sweep(): number {
    const now = this.now();
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.expiresAt <= now) {
        this.entries.delete(k);
        n++;
      }
    }
    return n;
  }

  private live(k: string): Entry | undefined {
    const entry = this.entries.get(k);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(k);
      return undefined;
    }
    return entry;
  }

  private store(k: string, entry: Entry): void {
    this.entries.delete(k);
    this.entries.set(k, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
