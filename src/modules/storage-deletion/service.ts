import type { Logger } from "pino";
import type { Database } from "@/db/client";
import type { Storage } from "@/lib/storage";
import { claimDeletions, deleteDeletion, postponeDeletion } from "./queries";

/*
 * The outbox behind "no orphan objects" (api.md §3.6): deleting changes queue their objects in
 * the same transaction; this drains the queue, retrying with exponential back-off. The job runner
 * (modules/jobs) drains it every 10 s; deleting routes also drain their own keys at once. Rows are
 * claimed with SKIP LOCKED so several instances never work on the same object.
 */

const ALERT_AFTER_ATTEMPTS = 10;
const MAX_BACKOFF_S = 3600;

export async function drainDeletionQueue(
  db: Database,
  storage: Storage,
  logger: Logger,
  options: { keys?: string[]; limit?: number } = {},
): Promise<{ deleted: number; failed: number }> {
  if (options.keys && options.keys.length === 0) return { deleted: 0, failed: 0 };
  let deleted = 0;
  let failed = 0;
  await db.transaction(async (tx) => {
    const rows = await claimDeletions(tx, options);
    for (const row of rows) {
      try {
        const container = row.container as "uploads" | "analysis" | "public";
        // A key ending in "/" stands for everything under it (a session's analysis artefacts).
        if (row.storageKey.endsWith("/")) await storage.deleteByPrefix(container, row.storageKey);
        else await storage.delete(container, row.storageKey);
        await deleteDeletion(tx, row.id);
        deleted++;
      } catch (error) {
        failed++;
        const attempts = row.attempts + 1;
        const backoff = Math.min(MAX_BACKOFF_S, 2 ** attempts);
        const message = error instanceof Error ? error.message : String(error);
        await postponeDeletion(tx, row.id, attempts, message.slice(0, 1000), backoff);
        const level = attempts >= ALERT_AFTER_ATTEMPTS ? "error" : "warn";
        logger[level](
          { key: row.storageKey, attempts, err: message },
          "stored object deletion failed; will retry",
        );
      }
    }
  });
  return { deleted, failed };
}
