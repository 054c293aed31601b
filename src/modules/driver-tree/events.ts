import type { DbOrTx } from "@/db/client";

/*
 * The `tree_updated` hook point (api.md §2.10): every write that changes what a tree computes
 * (PATCH, import, reset, node structure or value, binding, policy) calls this inside its
 * transaction. The collaboration issue turns it into the notification for the tree's creator
 * (refreshing an unread one); until then it records nothing, and callers need not change.
 */
export type TreeUpdated = { projectId: string; treeId: string; actorId: string; message: string };

export async function treeUpdated(_tx: DbOrTx, _event: TreeUpdated): Promise<void> {}
