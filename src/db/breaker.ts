import type { Logger } from "pino";
import { problem } from "@/lib/errors";

/*
 * Circuit breaker in front of PostgreSQL (issue 13 item 2). Once a query fails because the
 * database cannot be reached, every further query is refused at once with 503
 * DEPENDENCY_UNAVAILABLE and Retry-After instead of queueing behind the driver's reconnect
 * back-off; one probe (`select 1`) every `probeIntervalMs` closes the breaker as soon as the
 * server answers again. Queries already in flight finish or fail on their own.
 */

export const RETRY_AFTER_S = 1;

export type Breaker = {
  /** True while queries are refused. */
  readonly isOpen: boolean;
  /** Throws the 503 problem when open; a no-op otherwise (the hot path: one boolean test). */
  check(): void;
  /** Opens the breaker (idempotent) and starts probing. */
  trip(reason?: unknown): void;
  /** Stops probing for good (shutdown). */
  stop(): void;
  stats(): { trips: number; openedAt: number | null; lastClosedAfterMs: number | null };
};

export type BreakerOptions = {
  /** Resolves when the database answers; rejects (or times out) otherwise. */
  probe: () => Promise<unknown>;
  probeIntervalMs?: number;
  logger?: Logger;
};

export function createBreaker({ probe, probeIntervalMs = 250, logger }: BreakerOptions): Breaker {
  let open = false;
  let openedAt: number | null = null;
  let lastClosedAfterMs: number | null = null;
  let trips = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const schedule = () => {
    if (stopped || timer) return;
    timer = setTimeout(runProbe, probeIntervalMs);
    // A probe alone never keeps the process alive (shutdown, CLI commands).
    (timer as { unref?: () => void }).unref?.();
  };

  async function runProbe() {
    timer = null;
    if (!open || stopped) return;
    try {
      await probe();
      open = false;
      lastClosedAfterMs = openedAt === null ? null : Math.round(performance.now() - openedAt);
      openedAt = null;
      logger?.warn({ downMs: lastClosedAfterMs }, "database reachable again; breaker closed");
    } catch {
      schedule();
    }
  }

  return {
    get isOpen() {
      return open;
    },
    check() {
      if (open) {
        throw problem("DEPENDENCY_UNAVAILABLE", {
          detail: "The database is unavailable. Try again shortly.",
          headers: { "Retry-After": String(RETRY_AFTER_S) },
        });
      }
    },
    trip(reason?: unknown) {
      if (open || stopped) return;
      open = true;
      openedAt = performance.now();
      trips++;
      logger?.error({ err: reason }, "database unreachable; breaker open, failing fast");
      schedule();
    },
    stop() {
      stopped = true;
      open = false;
      if (timer) clearTimeout(timer);
      timer = null;
    },
    stats: () => ({ trips, openedAt, lastClosedAfterMs }),
  };
}
