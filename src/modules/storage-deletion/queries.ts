import { asc, eq, inArray, lte, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { storageDeletionQueue } from "@/db/schema";
import { newId } from "@/lib/ids";

export type DeletionRow = typeof storageDeletionQueue.$inferSelect;

/* Due rows (or the named keys), locked with SKIP LOCKED so several instances never share one. */
export function claimDeletions(
  tx: DbOrTx,
  options: { keys?: string[]; limit?: number },
): Promise<DeletionRow[]> {
  return tx
    .select()
    .from(storageDeletionQueue)
    .where(
      options.keys
        ? inArray(storageDeletionQueue.storageKey, options.keys)
        : lte(storageDeletionQueue.nextAttemptAt, new Date()),
    )
    .orderBy(asc(storageDeletionQueue.nextAttemptAt))
    .limit(options.limit ?? 100)
    .for("update", { skipLocked: true });
}

export async function deleteDeletion(tx: DbOrTx, id: string): Promise<void> {
  await tx.delete(storageDeletionQueue).where(eq(storageDeletionQueue.id, id));
}

export async function postponeDeletion(
  tx: DbOrTx,
  id: string,
  attempts: number,
  lastError: string,
  backoffS: number,
): Promise<void> {
  await tx
    .update(storageDeletionQueue)
    .set({
      attempts,
      lastError,
      nextAttemptAt: sql`now() + make_interval(secs => ${backoffS})`,
      updatedAt: new Date(),
    })
    .where(eq(storageDeletionQueue.id, id));
}

export type DeletionItem = { container: string; storageKey: string };

/** Queues stored objects for deletion (a key already queued stays as it is). */
export async function queueDeletions(tx: DbOrTx, items: DeletionItem[], reason: string): Promise<void> {
  if (items.length === 0) return;
  await tx
    .insert(storageDeletionQueue)
    .values(items.map((q) => ({ id: newId(), ...q, reason })))
    .onConflictDoNothing();
}
