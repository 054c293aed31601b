import { afterCommit } from "@/db/after-commit";
import type { DbOrTx } from "@/db/client";

/*
 * In-process signal "these users have new or refreshed notifications", raised only after the
 * producing transaction committed (a rolled-back change never announces). Each app's hub listens
 * here to wake its own live streams and to forward the signal to other instances (hub.ts).
 */

type Listener = (userIds: string[]) => void;
const listeners = new Set<Listener>();

export function onNotified(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function announceAfterCommit(tx: DbOrTx, userIds: string[]): void {
  if (userIds.length === 0) return;
  const ids = [...new Set(userIds)];
  afterCommit(tx, () => {
    for (const listener of listeners) listener(ids);
  });
}
