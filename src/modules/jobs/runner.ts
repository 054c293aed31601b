import type { Logger } from "pino";
import type { DatabaseHandle, ReservedSession } from "@/db/client";
import type { Metrics } from "@/lib/metrics";
import { holdsLeaderLock, type LockKey, releaseLeaderLocks, tryLeaderLock } from "./queries";

/*
 * The background job runner (api.md §4.4): every instance runs one, exactly one of them leads.
 * Leadership is a PostgreSQL session-level advisory lock on a reserved connection; followers try
 * to take it every `electionIntervalMs`, so when the leader dies (its socket closes and the server
 * drops the lock) another instance leads within that interval. The leader re-checks that it still
 * holds the lock at the same pace and stops its jobs the moment it does not. PGlite is one
 * process by construction, so there the runner simply leads.
 *
 * Each job runs on its own timer chain (a run never overlaps the previous one of the same job);
 * every run is logged and counted in `background_job_runs_total{job,outcome}` and
 * `background_job_duration_seconds{job}`, and the counts it reports in
 * `background_job_items_total{job,item}`.
 */

/** What a run did, for the log line (counts; all zero = nothing to do, logged at debug). */
export type JobResult = Record<string, number> | undefined;

export type JobSpec = {
  name: string;
  everyMs: number;
  /**
   * "HH:MM" (UTC): run once a day at that time instead of every `everyMs` (which then only
   * documents the period). A leader taking over after the hour waits for the next day's.
   */
  dailyAtUtc?: string;
  /** Delay of the first run after leadership is taken (default: `everyMs`, at most 5 s). */
  firstRunMs?: number;
  run(signal: AbortSignal): Promise<JobResult>;
};

export type JobRunnerOptions = {
  database: DatabaseHandle;
  logger: Logger;
  metrics: Pick<Metrics, "observeJobRun" | "setJobLeader"> & Partial<Pick<Metrics, "observeJobItems">>;
  jobs: JobSpec[];
  lockKey: LockKey;
  /** How often followers try the lock and the leader re-checks it (default 15 s). */
  electionIntervalMs?: number;
};

export type RunOutcome = { outcome: "ok" | "failed"; durationMs: number; result?: JobResult; error?: string };

/* "CAMP" as an int4: the lock space of this service's advisory locks. */
export const LOCK_SPACE = 0x43414d50;

/** A stable lock id per deployment name, so two deployments sharing one database do not collide. */
export function lockKeyFor(appName: string): LockKey {
  let h = 0;
  for (let i = 0; i < appName.length; i++) h = (Math.imul(h, 31) + appName.charCodeAt(i)) | 0;
  return { space: LOCK_SPACE, id: h };
}

const DAY_MS = 86_400_000;

/** Milliseconds from `now` to the next `HH:MM` UTC strictly after it (never 0, at most a day). */
export function msUntilDailyUtc(at: string, now: number): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(at);
  if (!m) throw new Error(`daily time must be HH:MM (UTC), got ${JSON.stringify(at)}`);
  const d = new Date(now);
  let next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), Number(m[1]), Number(m[2]));
  if (next <= now) next += DAY_MS;
  return next - now;
}

/** When the job runs next: its daily time, else its period. */
export function nextDelayMs(job: Pick<JobSpec, "everyMs" | "dailyAtUtc">, now: number): number {
  return job.dailyAtUtc ? msUntilDailyUtc(job.dailyAtUtc, now) : job.everyMs;
}

export class JobRunner {
  private readonly jobs = new Map<string, JobSpec>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly running = new Map<string, Promise<RunOutcome>>();
  private electionTimer: ReturnType<typeof setTimeout> | null = null;
  private session: ReservedSession | null = null;
  private leader = false;
  private started = false;
  private abort = new AbortController();
  private electing: Promise<void> | null = null;

  constructor(private readonly options: JobRunnerOptions) {
    for (const job of options.jobs) {
      if (job.dailyAtUtc) msUntilDailyUtc(job.dailyAtUtc, 0); // refuses a malformed time at start-up
      this.jobs.set(job.name, job);
    }
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.abort = new AbortController();
    this.scheduleElection(0);
  }

  /** Stops every timer, waits for runs in flight, gives up leadership. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.electionTimer) clearTimeout(this.electionTimer);
    this.electionTimer = null;
    await this.electing;
    await this.stepDown("stopped");
  }

  /** Runs one job now, on this instance, whoever leads (tests and operators). */
  runNow(name: string): Promise<RunOutcome> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`unknown job ${name}`);
    // Its own signal: a runner that stopped leading has aborted the scheduled runs' one.
    return this.execute(job, this.leader ? this.abort.signal : new AbortController().signal);
  }

  private scheduleElection(delayMs: number): void {
    if (!this.started) return;
    this.electionTimer = setTimeout(() => {
      this.electing = this.elect().finally(() => {
        this.electing = null;
        this.scheduleElection(this.options.electionIntervalMs ?? 15_000);
      });
    }, delayMs);
    this.electionTimer.unref?.();
  }

  private async elect(): Promise<void> {
    const { database, lockKey, logger } = this.options;
    if (!database.reserve) {
      if (!this.leader) this.becomeLeader();
      return;
    }
    try {
      this.session ??= await database.reserve();
      const holds = this.leader
        ? await holdsLeaderLock(this.session, lockKey)
        : await tryLeaderLock(this.session, lockKey);
      if (!this.started) return;
      if (holds && !this.leader) this.becomeLeader();
      else if (!holds && this.leader) await this.stepDown("lock lost");
    } catch (err) {
      logger.warn({ err }, "job runner: leadership check failed");
      await this.stepDown("lock check failed");
    }
  }

  private becomeLeader(): void {
    this.leader = true;
    this.abort = new AbortController();
    this.options.metrics.setJobLeader(true);
    this.options.logger.info({ jobs: this.jobNames }, "job runner: leading");
    for (const job of this.jobs.values())
      this.scheduleJob(
        job,
        job.firstRunMs ?? (job.dailyAtUtc ? nextDelayMs(job, Date.now()) : Math.min(job.everyMs, 5000)),
      );
  }

  private async stepDown(reason: string): Promise<void> {
    const wasLeader = this.leader;
    this.leader = false;
    this.abort.abort(new Error(reason));
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
    if (wasLeader) {
      this.options.metrics.setJobLeader(false);
      this.options.logger.info({ reason }, "job runner: no longer leading");
    }
    const session = this.session;
    this.session = null;
    if (session) {
      // Unlock first: a released connection goes back to the pool and must not carry the lock.
      await releaseLeaderLocks(session).catch(() => {});
      session.release();
    }
  }

  private scheduleJob(job: JobSpec, delayMs: number): void {
    const timer = setTimeout(async () => {
      this.timers.delete(job.name);
      if (!this.leader) return;
      await this.execute(job, this.abort.signal);
      if (this.leader) this.scheduleJob(job, nextDelayMs(job, Date.now()));
    }, delayMs);
    timer.unref?.();
    this.timers.set(job.name, timer);
  }

  private execute(job: JobSpec, signal: AbortSignal): Promise<RunOutcome> {
    const inFlight = this.running.get(job.name);
    if (inFlight) return inFlight;
    const run = this.runOnce(job, signal).finally(() => this.running.delete(job.name));
    this.running.set(job.name, run);
    return run;
  }

  private async runOnce(job: JobSpec, signal: AbortSignal): Promise<RunOutcome> {
    const { logger, metrics } = this.options;
    const started = performance.now();
    try {
      const result = (await job.run(signal)) ?? undefined;
      const durationMs = performance.now() - started;
      metrics.observeJobRun(job.name, "ok", durationMs / 1000);
      if (result) metrics.observeJobItems?.(job.name, result);
      const busy = result !== undefined && Object.values(result).some((n) => n !== 0);
      logger[busy ? "info" : "debug"](
        { job: job.name, outcome: "ok", durationMs: Math.round(durationMs), ...result },
        "background job run",
      );
      return { outcome: "ok", durationMs, result };
    } catch (err) {
      const durationMs = performance.now() - started;
      metrics.observeJobRun(job.name, "failed", durationMs / 1000);
      logger.error(
        { job: job.name, outcome: "failed", durationMs: Math.round(durationMs), err },
        "background job run",
      );
      return { outcome: "failed", durationMs, error: err instanceof Error ? err.message : String(err) };
    }
  }
}
