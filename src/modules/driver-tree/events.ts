import type { DbOrTx } from "@/db/client";
import * as notify from "@/modules/notification/producers";

/*
 * The `tree_updated` hook point (api.md §2.10): every write that changes what a tree computes
 * (PATCH, import, reset, node structure or value, binding, policy) calls this inside its
 * transaction. It notifies the tree's creator (while a member, unless they made the change);
 * an unread `tree_updated` of the same tree is refreshed rather than repeated.
 */
export type TreeUpdated = { projectId: string; treeId: string; actorId: string; message: string };

export async function treeUpdated(tx: DbOrTx, event: TreeUpdated): Promise<void> {
  await notify.treeUpdated(tx, event);
}
