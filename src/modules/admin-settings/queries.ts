import { and, asc, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { userRef } from "@/db/queries/user-ref";
import { systemSetting, userAccount } from "@/db/schema";

export { SETTING_CATEGORIES } from "@/db/schema/audit";

export type SettingRow = {
  category: string;
  key: string;
  value: unknown;
  valueType: string;
  description: string | null;
  isSecret: boolean;
  isEditable: boolean;
  updatedBy: { id: string; email: string; displayName: string | null } | null;
  updatedAt: Date;
};

const columns = {
  category: systemSetting.category,
  key: systemSetting.key,
  value: systemSetting.value,
  valueType: systemSetting.valueType,
  description: systemSetting.description,
  isSecret: systemSetting.isSecret,
  isEditable: systemSetting.isEditable,
  updatedBy: userRef,
  updatedAt: systemSetting.updatedAt,
};

export async function listSettingRows(db: DbOrTx, category?: string): Promise<SettingRow[]> {
  const rows = await db
    .select(columns)
    .from(systemSetting)
    .leftJoin(userAccount, eq(userAccount.id, systemSetting.updatedBy))
    .where(category ? eq(systemSetting.category, category) : undefined)
    .orderBy(asc(systemSetting.category), asc(systemSetting.key));
  return rows as SettingRow[];
}

/* What the in-process store needs: the stored values only. */
export function settingValues(db: DbOrTx): Promise<{ category: string; key: string; value: unknown }[]> {
  return db
    .select({ category: systemSetting.category, key: systemSetting.key, value: systemSetting.value })
    .from(systemSetting);
}

/** The stored row, locked for the write that follows. */
export async function lockSetting(db: DbOrTx, category: string, key: string): Promise<SettingRow | null> {
  const [row] = await db
    .select(columns)
    .from(systemSetting)
    .leftJoin(userAccount, eq(userAccount.id, systemSetting.updatedBy))
    .where(and(eq(systemSetting.category, category), eq(systemSetting.key, key)))
    .for("update", { of: systemSetting });
  return (row as SettingRow | undefined) ?? null;
}

export async function upsertSetting(
  db: DbOrTx,
  row: {
    id: string;
    category: string;
    key: string;
    value: unknown;
    valueType: string;
    description: string | null;
    isSecret: boolean;
    isEditable: boolean;
    updatedBy: string | null;
  },
): Promise<void> {
  await db
    .insert(systemSetting)
    .values({ ...row, value: sql`${JSON.stringify(row.value)}::jsonb` })
    .onConflictDoUpdate({
      target: [systemSetting.category, systemSetting.key],
      set: { value: sql`excluded.value`, updatedBy: row.updatedBy, updatedAt: sql`now()` },
    });
}
