import type { Logger } from "pino";
import type { Database } from "@/db/client";
import { newId } from "@/lib/ids";
import { maskSecrets } from "@/lib/mask";
import { type ActivityInsert, copyActivities, insertActivities } from "./queries";

/*
 * The activity log's write side (api.md §4.1 stage 8): the request pipeline hands each finished
 * request to `record`, which only appends to a bounded in-process queue — never a database call
 * on the request's path. The queue is written with one multi-row insert every second or every
 * `batchSize` rows; when it is full new rows are dropped and counted (never blocking), and a batch
 * the database refuses is counted as dropped too, so every recorded row is either written or
 * counted. `close` drains what is left (shutdown).
 */

export type ActivityEntry = Omit<ActivityInsert, "id" | "requestBody"> & { requestBody: unknown };

export type ActivityStats = { recorded: number; written: number; dropped: number; queued: number };

export type ActivityRecorderOptions = {
  db: Database;
  /** PostgreSQL's COPY (DatabaseHandle.copyIn): batches go through it when present. */
  copyIn?: (statement: string, text: string) => Promise<void>;
  logger: Logger;
  maxQueue?: number;
  batchSize?: number;
  flushIntervalMs?: number;
  onDrop?: (n: number) => void;
  onWrite?: (n: number) => void;
};

/* JSON bodies above this size are not kept (api.md §3.7: ≤ 16 KiB). */
const MAX_BODY_CHARS = 16 * 1024;

export class ActivityRecorder {
  private queue: ActivityEntry[] = [];
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private timer: ReturnType<typeof setInterval> | null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private readonly counts = { recorded: 0, written: 0, dropped: 0 };

  constructor(private readonly options: ActivityRecorderOptions) {
    this.maxQueue = options.maxQueue ?? 10_000;
    this.batchSize = options.batchSize ?? 200;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
    this.timer.unref?.();
  }

  get stats(): ActivityStats {
    return { ...this.counts, queued: this.queue.length };
  }

  /** Queues one row; false when it was dropped (queue full or recorder closed). */
  record(entry: ActivityEntry): boolean {
    this.counts.recorded++;
    if (this.closed || this.queue.length >= this.maxQueue) {
      this.drop(1);
      return false;
    }
    this.queue.push(entry);
    if (this.queue.length >= this.batchSize && !this.flushing) void this.flush();
    return true;
  }

  /** Writes everything queued so far, one batch at a time (one flush runs at a time). */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flushing;
    await this.flush();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      try {
        const rows = batch.map(toRow);
        if (this.options.copyIn) await copyActivities(this.options.copyIn, rows);
        else await insertActivities(this.options.db, rows);
        this.counts.written += batch.length;
        this.options.onWrite?.(batch.length);
      } catch (err) {
        this.drop(batch.length);
        this.options.logger.error({ err, rows: batch.length }, "activity log batch could not be written");
      }
    }
  }

  private drop(n: number): void {
    this.counts.dropped += n;
    this.options.onDrop?.(n);
  }
}

/* PostgreSQL text and jsonb cannot hold NUL; a request that carried one still gets its row. */
const noNul = (s: string) => (s.includes("\0") ? s.replaceAll("\0", "") : s);
const optional = (s: string | null | undefined, max: number) => (s == null ? null : noNul(s.slice(0, max)));
/* `\u0000` escapes not preceded by an escaped backslash. */
const JSON_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g;

/* Masking and the body bound run here, off the request path. */
function toRow(e: ActivityEntry): ActivityInsert {
  let requestBody: unknown = null;
  if (e.requestBody !== null && e.requestBody !== undefined && typeof e.requestBody === "object") {
    const masked = maskSecrets(e.requestBody);
    const text = JSON.stringify(masked);
    if (text !== undefined && text.length <= MAX_BODY_CHARS) {
      requestBody = text.includes("\\u0000") ? JSON.parse(text.replace(JSON_NUL, "$1")) : masked;
    }
  }
  return {
    ...e,
    id: newId(),
    requestBody,
    errorMessage: optional(e.errorMessage, 1000),
    userAgent: optional(e.userAgent, 500),
    path: noNul(e.path.slice(0, 1024)),
    route: e.route.slice(0, 255),
    ipAddress: e.ipAddress && /^[0-9a-fA-F:.]+$/.test(e.ipAddress) ? e.ipAddress : null,
  };
}
