import type { DbOrTx } from "@/db/client";
import { roleHistory } from "@/db/schema";
import { newId } from "@/lib/ids";

export type RoleHistoryValues = Omit<typeof roleHistory.$inferInsert, "id" | "changedAt">;

/** One grant, change or revocation of a user's system or project roles. */
export async function insertRoleHistory(tx: DbOrTx, values: RoleHistoryValues): Promise<void> {
  await tx.insert(roleHistory).values({ id: newId(), ...values });
}
