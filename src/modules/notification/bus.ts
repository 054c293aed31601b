import { afterCommit, commitSignalsOf } from "@/db/after-commit";
import type { DbOrTx } from "@/db/client";

/*
 * In-process signal "these users have new or refreshed notifications", raised only after the
 * producing transaction committed (a rolled-back change never announces). It travels on the
 * database handle's commit signals, so each app's hub (hub.ts) hears the commits of its own
 * database, wakes its live streams and forwards the signal to other instances.
 */

export function onNotified(
  db: DbOrTx,
  listener: (userIds: string[], claim: (key: string) => boolean) => void,
): () => void {
  return commitSignalsOf(db).listen(listener);
}

export function announceAfterCommit(tx: DbOrTx, userIds: string[]): void {
  if (userIds.length === 0) return;
  const ids = [...new Set(userIds)];
  const signals = commitSignalsOf(tx);
  afterCommit(tx, () => signals.emit(ids));
}
