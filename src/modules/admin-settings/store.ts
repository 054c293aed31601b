import type { Logger } from "pino";
import type { Config } from "@/config";
import type { Database } from "@/db/client";
import { CACHE_TTL, type Cache, SETTINGS_SNAPSHOT_KEY } from "@/lib/cache";
import { NearCache } from "@/lib/cache/near";
import { definitionOf, settingId } from "./definitions";
import { settingValues } from "./queries";

/*
 * The effective settings of this process, read on the hot path without I/O (api.md §4.1 stage 6
 * reads maintenance on every request). Coherence across instances rides on the near cache's
 * generation counter: every settings write deletes the shared snapshot key, which bumps the
 * counter, and every rate-limited request learns the counter in the round trip it makes anyway
 * (lib/cache/near.ts). A copy loaded under an older counter is stale, so the next request on any
 * instance reloads it (from the shared snapshot, else the database). Without a shared cache (or
 * while the counter is unknown) a copy lives CACHE_TTL.settings seconds. When a reload fails the
 * last known values keep serving.
 */

type Snapshot = {
  values: ReadonlyMap<string, unknown>;
  generation: number | null;
  loadedAt: number;
};

type StoredValue = { category: string; key: string; value: unknown };

/* Even with a known counter a copy is re-read now and then (rows changed outside the service). */
const MAX_AGE_MS = 60_000;

export type MaintenanceSettings = {
  enabled: boolean;
  message: string;
  allowAdminAccess: boolean;
  retryAfterSeconds: number;
};

export class SettingsStore {
  private snapshot: Snapshot | null = null;
  private loading: Promise<Snapshot> | null = null;

  constructor(
    private readonly db: Database,
    private readonly cache: Cache,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  private generation(): number | null {
    return this.cache instanceof NearCache ? this.cache.currentGeneration : null;
  }

  /** The current values when known to be fresh, without I/O; undefined when a reload is due. */
  fresh(): Snapshot | undefined {
    const s = this.snapshot;
    if (!s) return undefined;
    const age = this.now() - s.loadedAt;
    const g = this.generation();
    if (g !== null && s.generation !== null) return g === s.generation && age < MAX_AGE_MS ? s : undefined;
    return age < CACHE_TTL.settings * 1000 ? s : undefined;
  }

  /** Fresh values, reloading when due (one load at a time); the last known values if it fails. */
  async current(): Promise<Snapshot> {
    const f = this.fresh();
    if (f) return f;
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    try {
      return await this.loading;
    } catch (err) {
      if (this.snapshot) {
        this.logger.warn({ err }, "settings reload failed; serving the last known values");
        return this.snapshot;
      }
      this.logger.warn({ err }, "settings could not be read; serving defaults");
      return { values: new Map(), generation: null, loadedAt: 0 };
    }
  }

  private async load(): Promise<Snapshot> {
    const generation = this.generation();
    let rows = await this.cache.get<StoredValue[]>(SETTINGS_SNAPSHOT_KEY);
    if (!Array.isArray(rows)) {
      rows = await settingValues(this.db);
      await this.cache.set(SETTINGS_SNAPSHOT_KEY, rows, CACHE_TTL.settings);
    }
    const snapshot = {
      values: new Map(rows.map((r) => [settingId(r.category, r.key), r.value])),
      generation,
      loadedAt: this.now(),
    };
    this.snapshot = snapshot;
    return snapshot;
  }

  /** After a write: this process reloads at once, every other one on its next request. */
  async invalidate(): Promise<void> {
    this.snapshot = null;
    await this.cache.delete(SETTINGS_SNAPSHOT_KEY);
  }

  /** The effective value: stored, else the definition's default. */
  valueOf(snapshot: Snapshot, category: string, key: string): unknown {
    const id = settingId(category, key);
    if (snapshot.values.has(id)) return snapshot.values.get(id);
    return definitionOf(category, key)?.default(this.config);
  }

  /* Read by every request: worked out once per loaded snapshot (a reload makes a new one). */
  private readonly maintenanceOf = new WeakMap<Snapshot, Readonly<MaintenanceSettings>>();

  maintenance(snapshot: Snapshot): Readonly<MaintenanceSettings> {
    const known = this.maintenanceOf.get(snapshot);
    if (known) return known;
    const v = (key: string) => this.valueOf(snapshot, "MAINTENANCE", key);
    const m = Object.freeze({
      enabled: v("maintenance_mode") === true,
      message: typeof v("maintenance_message") === "string" ? (v("maintenance_message") as string) : "",
      allowAdminAccess: v("allow_admin_access") !== false,
      retryAfterSeconds: Number(v("retry_after_seconds")) || 3600,
    });
    this.maintenanceOf.set(snapshot, m);
    return m;
  }

  /** The LLM limits of api.md §2.12.4, the environment's values unless an admin set them. */
  async llmLimits(): Promise<{ maxTurnsPerUserPerHour: number; turnTimeoutS: number }> {
    const s = await this.current();
    const n = (key: string, fallback: number) => {
      const v = Number(this.valueOf(s, "LLM", key));
      return Number.isFinite(v) && v > 0 ? v : fallback;
    };
    return {
      maxTurnsPerUserPerHour: n("max_turns_per_user_per_hour", this.config.llmMaxTurnsPerUserPerHour),
      turnTimeoutS: n("turn_timeout_seconds", this.config.llmTurnTimeoutS),
    };
  }
}
