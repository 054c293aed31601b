import type { Cache, CacheBackend, CacheHooks, IncrResult, PingResult } from "./types";

/*
 * An in-process layer in front of a shared (Redis/Upstash) cache, so a warm authenticated request
 * costs one network round trip instead of one per cached fact (session, user, project, role).
 *
 * Coherence: every invalidation (`delete`, `deleteByPrefix`) bumps a shared generation counter in
 * the same Redis call. The rate limiter's script returns that counter in the round trip it makes
 * anyway, and the request pipeline calls `syncGeneration` before it reads anything through this
 * layer; a counter that moved (another instance wrote) empties the local layer. So a read never
 * sees an entry older than the last invalidation that finished before the request's own
 * round trip — the same guarantee the shared cache gives. When the counter cannot be read (Redis
 * down) the local layer is emptied and bypassed until it can.
 *
 * Only the families listed in `NEAR_PREFIXES` live here: they change through invalidation only.
 * Counters and version keys (which change through `incr`/`set`) always go to the shared store.
 */

export const GENERATION_KEY = "near:generation";
export const NEAR_PREFIXES = ["authsess:", "user:", "project:", "member_role:"] as const;

const DEL_AND_BUMP = `redis.call('DEL', KEYS[1])
return redis.call('INCR', KEYS[2])`;
const BUMP = `return redis.call('INCR', KEYS[1])`;
const READ = `return redis.call('GET', KEYS[1])`;

export type NearCacheOptions = CacheHooks & {
  /** Upper bound on how long an entry is served locally (default 10 s). */
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
};

type Entry = { json: string; until: number };

export class NearCache implements Cache {
  readonly backend: CacheBackend;
  private readonly local = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly hooks: CacheHooks;
  /* The shared counter last seen; null = unknown (start, or Redis unreachable): bypass. */
  private generation: number | null = null;
  /* An invalidation whose bump could not be sent; sent with the next successful sync. */
  private bumpOwed = false;

  constructor(
    readonly inner: Cache & { evalScript: NonNullable<Cache["evalScript"]> },
    options: NearCacheOptions = {},
  ) {
    this.backend = inner.backend;
    this.ttlMs = options.ttlMs ?? 10_000;
    this.maxEntries = options.maxEntries ?? 20_000;
    this.now = options.now ?? Date.now;
    this.hooks = { onHit: options.onHit };
  }

  static eligible(key: string): boolean {
    for (const p of NEAR_PREFIXES) if (key.startsWith(p)) return true;
    return false;
  }

  /** The shared counter as last seen (null: unknown); in-process copies elsewhere key off it too. */
  get currentGeneration(): number | null {
    return this.generation;
  }

  /** Local entries (tests and diagnostics). */
  get size(): number {
    return this.local.size;
  }

  /**
   * Takes the shared counter as read in this request's round trip (null: it could not be read).
   * Must run before the request reads through this layer.
   */
  syncGeneration(generation: number | null): void {
    if (generation === null) {
      this.generation = null;
      this.local.clear();
      return;
    }
    if (generation !== this.generation) {
      this.local.clear();
      this.generation = generation;
    }
    if (this.bumpOwed) {
      this.bumpOwed = false;
      void this.bump().catch(() => {
        this.bumpOwed = true;
      });
    }
  }

  /** Reads the counter on its own (a request that has no rate-limit round trip to piggy-back on). */
  async refreshGeneration(): Promise<void> {
    try {
      this.syncGeneration(Number((await this.inner.evalScript(READ, [GENERATION_KEY], [])) ?? 0));
    } catch {
      this.syncGeneration(null);
    }
  }

  peek<T = unknown>(key: string): T | undefined {
    if (this.generation === null) return undefined;
    const e = this.local.get(key);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.local.delete(key);
      return undefined;
    }
    this.hooks.onHit?.();
    // A fresh copy each time: callers may keep or change what they get.
    return JSON.parse(e.json) as T;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const near = this.generation !== null && NearCache.eligible(key);
    if (near) {
      const hit = this.peek<T>(key);
      if (hit !== undefined) return hit;
    }
    const generation = this.generation;
    const value = await this.inner.get<T>(key);
    // Not stored if the counter moved while the value was in flight.
    if (near && value !== undefined && generation === this.generation) this.remember(key, value);
    return value;
  }

  async set(key: string, value: unknown, ttlS?: number): Promise<void> {
    const generation = this.generation;
    await this.inner.set(key, value, ttlS);
    if (generation !== null && generation === this.generation && NearCache.eligible(key)) {
      this.remember(key, value, ttlS);
    }
  }

  async delete(key: string): Promise<void> {
    this.local.delete(key);
    try {
      this.advance(Number(await this.inner.evalScript(DEL_AND_BUMP, [key, GENERATION_KEY], [])));
    } catch {
      // The shared cache remembers the delete for its recovery; the bump is owed.
      this.bumpOwed = true;
      this.syncGeneration(null);
      await this.inner.delete(key);
    }
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    for (const k of [...this.local.keys()]) if (k.startsWith(prefix)) this.local.delete(k);
    const n = await this.inner.deleteByPrefix(prefix);
    try {
      this.advance(await this.bump());
    } catch {
      this.bumpOwed = true;
      this.syncGeneration(null);
    }
    return n;
  }

  incr(key: string, ttlS: number): Promise<IncrResult> {
    return this.inner.incr(key, ttlS);
  }

  evalScript(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.inner.evalScript(script, keys, args);
  }

  ping(): Promise<PingResult> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    this.local.clear();
    return this.inner.close();
  }

  private async bump(): Promise<number> {
    return Number(await this.inner.evalScript(BUMP, [GENERATION_KEY], []));
  }

  /* Our own bump moved the counter by one: nothing else changed, the local entries stay. */
  private advance(next: number): void {
    if (this.generation !== null && next === this.generation + 1) this.generation = next;
    else this.syncGeneration(next);
  }

  private remember(key: string, value: unknown, ttlS?: number): void {
    const json = JSON.stringify(value);
    if (json === undefined) return;
    const ttlMs = ttlS !== undefined && ttlS > 0 ? Math.min(this.ttlMs, ttlS * 1000) : this.ttlMs;
    if (this.local.size >= this.maxEntries) this.local.delete(this.local.keys().next().value as string);
    this.local.set(key, { json, until: this.now() + ttlMs });
  }
}
