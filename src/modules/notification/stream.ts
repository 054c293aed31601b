import type { Database } from "@/db/client";
import { newId } from "@/lib/ids";
import type { NotificationHub } from "./hub";
import type { Notification } from "./model";
import { createdAfter, databaseNow, type NotificationView, unreadChangedSince } from "./queries";

/*
 * One Server-Sent Events stream of the caller's notifications. Event `notification`, data = the
 * Notification; `id:` = the notification id, so a browser's automatic reconnect sends
 * `Last-Event-ID` and receives what it missed (UUIDv7 ids sort by creation). A refreshed
 * `tree_updated` row is sent again without an `id:` line, so the resume point stays the newest
 * created row. Rows are read from the database on every wake-up; the hub only says when to look.
 */

export const HEARTBEAT_MS = 15_000;
/* With a live subscription the database is still read this often, in case a signal was lost. */
const SAFETY_POLL_MS = 10_000;
/* Rows are looked up again over this window: a transaction that commits late keeps its (older) time. */
const LOOKBACK_MS = 10_000;
const BACKLOG_LIMIT = 500;
const BATCH_LIMIT = 200;

export type StreamOptions = {
  db: Database;
  hub: NotificationHub;
  userId: string;
  lastEventId: string | null;
  toNotification: (row: NotificationView) => Notification;
  /** Aborted when the client goes away or the server drains. */
  signals: AbortSignal[];
  heartbeatMs?: number;
};

export function notificationStream(o: StreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  let closed = false;
  let wakeUp: (() => void) | null = null;
  let pending = true;
  const sent = new Map<string, number>();
  // Without a resume point, "now": a refresh of an older row must not move the client's resume point back.
  let newestId = o.lastEventId ?? newId();

  const write = (chunk: string) => {
    if (closed || !controller) return;
    try {
      controller.enqueue(encoder.encode(chunk));
    } catch {
      stop();
    }
  };
  const wake = () => {
    pending = true;
    wakeUp?.();
  };
  const unlisten = o.hub.listen(o.userId, wake);
  const unclose = o.hub.onClose(() => stop());
  const heartbeat = setInterval(() => write(": heartbeat\n\n"), o.heartbeatMs ?? HEARTBEAT_MS);
  const onAbort = () => stop();
  for (const s of o.signals) s.addEventListener("abort", onAbort, { once: true });

  function stop() {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unlisten();
    unclose();
    for (const s of o.signals) s.removeEventListener("abort", onAbort);
    wakeUp?.();
    try {
      controller?.close();
    } catch {
      // The client closed it first.
    }
  }

  const send = (row: NotificationView) => {
    const n = o.toNotification(row);
    const at = row.n.updatedAt.getTime();
    if (sent.get(n.id) === at) return;
    const isNew = n.id > newestId;
    sent.set(n.id, at);
    if (isNew) newestId = n.id;
    write(`${isNew ? `id: ${n.id}\n` : ""}event: notification\ndata: ${JSON.stringify(n)}\n\n`);
  };

  async function run() {
    let since = await databaseNow(o.db);
    const backlog = o.lastEventId ? await createdAfter(o.db, o.userId, o.lastEventId, BACKLOG_LIMIT) : [];
    const missed = new Set(backlog.map((r) => r.n.id));
    // What the look-back window already holds was there before this stream: not news to it
    // (unless the client says it missed it).
    const lookback = new Date(since.getTime() - LOOKBACK_MS);
    for (const row of await unreadChangedSince(o.db, o.userId, lookback, BATCH_LIMIT)) {
      if (!missed.has(row.n.id)) sent.set(row.n.id, row.n.updatedAt.getTime());
    }
    // Tells the client the stream is up (and how long to wait before reconnecting).
    write("retry: 1000\n: connected\n\n");
    for (const row of backlog) send(row);
    while (!closed) {
      if (pending) {
        pending = false;
        const rows = await unreadChangedSince(
          o.db,
          o.userId,
          new Date(since.getTime() - LOOKBACK_MS),
          BATCH_LIMIT,
        );
        for (const row of rows) send(row);
        const latest = rows.reduce((t, r) => Math.max(t, r.n.updatedAt.getTime()), since.getTime());
        since = new Date(latest);
        for (const [id, at] of sent) if (at < latest - 2 * LOOKBACK_MS) sent.delete(id);
      }
      if (closed) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.hub.live ? SAFETY_POLL_MS : o.hub.pollMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
        if (pending || closed) wakeUp();
      });
      wakeUp = null;
      // A timer expiry is a poll; a wake-up already set `pending`.
      pending = true;
    }
  }

  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      run().catch(() => stop());
    },
    cancel() {
      stop();
    },
  });
}
