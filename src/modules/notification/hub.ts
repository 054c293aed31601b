import { RedisClient } from "bun";
import type { Logger } from "pino";
import type { DbOrTx } from "@/db/client";
import { parseRedisUrl } from "@/lib/cache";
import { onNotified } from "./bus";

/*
 * Live delivery across instances (api.md §2.10, GET /notifications/stream). The signal carried is
 * only "user X has something new"; every stream then reads its rows from the database, so a lost,
 * duplicated or early signal can delay a delivery but never invent or drop one for good.
 *
 * - Same process: the commit hook (bus.ts) wakes this hub's streams at once.
 * - Other instances: the hub PUBLISHes the user ids on `<prefix>notifications` through the shared
 *   cache's connection; every hub with live streams SUBSCRIBEs on a dedicated connection.
 * - No Redis (memory cache, Upstash REST) or while the subscription is down: streams poll the
 *   database every `pollMs` (1 s), so a notification still arrives within about a second.
 */

export type Publish = (channel: string, message: string) => Promise<unknown>;

export type HubOptions = {
  /** Whose commits this hub hears (its app's database). */
  db: DbOrTx;
  channel: string;
  /** Absent: single-instance (or polling) delivery only. */
  publish?: Publish | null;
  /** redis:// URL for the subscription; absent → streams poll. */
  redisUrl?: string | null;
  logger: Pick<Logger, "warn" | "info">;
  pollMs?: number;
};

const PUBLISH_SCRIPT = "return redis.call('PUBLISH', ARGV[1], ARGV[2])";

/** Publishes through a cache's script runner (Redis, Upstash); the channel is passed unprefixed. */
export const publishVia = (
  evalScript: ((script: string, keys: string[], args: string[]) => Promise<unknown>) | undefined,
): Publish | null =>
  evalScript ? (channel, message) => evalScript(PUBLISH_SCRIPT, [], [channel, message]) : null;

/* A hub whose app was dropped without closeDeps (tests) stops listening once it is collected. */
const released = new FinalizationRegistry<() => void>((cleanup) => cleanup());

export class NotificationHub {
  readonly pollMs: number;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly unregister: () => void;
  private subscriber: RedisClient | null = null;
  private connecting: Promise<void> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryMs = 500;
  private subscribed = false;
  private closed = false;
  private readonly closers = new Set<() => void>();

  constructor(private readonly options: HubOptions) {
    this.pollMs = options.pollMs ?? 1000;
    // Held weakly: the database outlives the apps of a test process and must not keep them alive.
    const ref = new WeakRef<NotificationHub>(this);
    this.unregister = onNotified(options.db, (ids, claim) => ref.deref()?.committed(ids, claim));
    released.register(this, this.unregister, this);
  }

  /** True while the Redis subscription is up: streams then rely on it and poll only as a safety net. */
  get live(): boolean {
    return this.subscribed;
  }

  private committed(ids: string[], claim: (key: string) => boolean): void {
    this.wake(ids);
    // One forward per channel and commit, however many apps of this process share the database.
    if (!this.options.publish || !claim(this.options.channel)) return;
    this.options.publish(this.options.channel, ids.join(",")).catch(() => {
      // Redis is down: other instances' streams find the row by polling.
    });
  }

  private wake(ids: string[]): void {
    for (const id of ids) {
      const set = this.waiters.get(id);
      if (set) for (const fn of set) fn();
    }
  }

  /** Calls `wake` whenever `userId` may have something new; returns the unsubscribe. */
  listen(userId: string, wake: () => void): () => void {
    const set = this.waiters.get(userId) ?? new Set<() => void>();
    this.waiters.set(userId, set);
    set.add(wake);
    this.ensureSubscribed();
    return () => {
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(userId);
    };
  }

  /** `fn` runs when the hub closes (shutdown): streams end so the server can drain. */
  onClose(fn: () => void): () => void {
    this.closers.add(fn);
    return () => this.closers.delete(fn);
  }

  private ensureSubscribed(): void {
    if (this.closed || !this.options.redisUrl || this.subscribed || this.connecting || this.retryTimer)
      return;
    this.connecting = this.subscribe().finally(() => {
      this.connecting = null;
    });
  }

  private async subscribe(): Promise<void> {
    const parsed = parseRedisUrl(this.options.redisUrl!);
    // Own reconnect loop (scheduleRetry), as the cache's driver: a lost subscription must be noticed.
    const client = new RedisClient(parsed.url, {
      autoReconnect: false,
      enableOfflineQueue: false,
      connectionTimeout: 5000,
      ...(parsed.tls ? { tls: parsed.verifyCertificate ? true : { rejectUnauthorized: false } } : {}),
    });
    client.onclose = () => {
      if (this.subscriber !== client) return;
      this.subscriber = null;
      this.subscribed = false;
      this.options.logger.warn(
        { channel: this.options.channel },
        "notification subscription lost; streams poll",
      );
      // Everything published while down is caught by polling; wake all so none waits a full interval.
      this.wake([...this.waiters.keys()]);
      this.scheduleRetry();
    };
    this.subscriber = client;
    try {
      await client.connect();
      await client.subscribe(this.options.channel, (message) => this.wake(message.split(",")));
      if (this.closed) {
        client.close();
        return;
      }
      this.subscribed = true;
      this.retryMs = 500;
      // Whatever was published before the subscription existed: look once now.
      this.wake([...this.waiters.keys()]);
    } catch (err) {
      if (this.subscriber === client) this.subscriber = null;
      client.onclose = null;
      client.close();
      this.options.logger.warn(
        { err, channel: this.options.channel },
        "notification subscription failed; streams poll",
      );
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer || this.waiters.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.ensureSubscribed();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 30_000);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    released.unregister(this);
    this.unregister();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const fn of [...this.closers]) fn();
    const client = this.subscriber;
    this.subscriber = null;
    this.subscribed = false;
    if (client) {
      client.onclose = null;
      client.close();
    }
  }
}
