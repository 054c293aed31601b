import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { roleHistory, userAccount } from "@/db/schema";
import { newId } from "@/lib/ids";
import { likePattern } from "@/lib/schema";

export type RoleHistoryValues = Omit<typeof roleHistory.$inferInsert, "id" | "changedAt">;

/** One grant, change or revocation of a user's system or project roles. */
export async function insertRoleHistory(tx: DbOrTx, values: RoleHistoryValues): Promise<void> {
  await tx.insert(roleHistory).values({ id: newId(), ...values });
}

/* The user search of member and user lists: the text is found in the e-mail or the display name. */
export const userMatches = (q: string) =>
  sql`(lower(${userAccount.email}) like lower(${likePattern(q)}) or lower(coalesce(${userAccount.displayName}, '')) like lower(${likePattern(q)}))`;
