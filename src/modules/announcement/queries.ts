import { and, asc, count, desc, eq, isNull, lte, or, type SQL, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { userRef } from "@/db/queries/user-ref";
import { systemAnnouncement, userAccount } from "@/db/schema";
import { textArray } from "@/modules/notification/queries";

/* SQL of system announcements (api.md §2.12.6, §3.7). */

export type AnnouncementRow = typeof systemAnnouncement.$inferSelect;
export type NewAnnouncement = typeof systemAnnouncement.$inferInsert;

/** Shown now: active, started, not yet ended. */
const currentNow = () =>
  and(
    eq(systemAnnouncement.isActive, true),
    lte(systemAnnouncement.startAt, sql`now()`),
    or(isNull(systemAnnouncement.endAt), sql`${systemAnnouncement.endAt} > now()`),
  );

/** `targetRoles` empty or null (everyone), or sharing a role with `roles`. */
const visibleTo = (roles: string[]) =>
  sql`(${systemAnnouncement.targetRoles} is null or cardinality(${systemAnnouncement.targetRoles}) = 0 or ${systemAnnouncement.targetRoles} && ${roles.length > 0 ? textArray(roles) : sql`'{}'::text[]`})`;

function adminSelect(db: DbOrTx) {
  return db
    .select({ a: systemAnnouncement, createdBy: userRef })
    .from(systemAnnouncement)
    .leftJoin(userAccount, eq(userAccount.id, systemAnnouncement.createdBy));
}

export type AnnouncementView = Awaited<ReturnType<ReturnType<typeof adminSelect>["execute"]>>[number];

export type AdminFilter = { isActive?: boolean; announcementType?: string; current?: boolean };

export async function listAll(db: DbOrTx, f: AdminFilter, skip: number, limit: number) {
  const where = and(
    f.isActive === undefined ? undefined : eq(systemAnnouncement.isActive, f.isActive),
    f.announcementType ? eq(systemAnnouncement.announcementType, f.announcementType) : undefined,
    f.current === undefined ? undefined : f.current ? currentNow() : sql`not (${currentNow()})`,
  );
  const rows = await adminSelect(db)
    .where(where)
    .orderBy(desc(systemAnnouncement.startAt), desc(systemAnnouncement.id))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(systemAnnouncement).where(where);
  return { rows, total: n };
}

export async function findView(db: DbOrTx, id: string): Promise<AnnouncementView | undefined> {
  const [row] = await adminSelect(db).where(eq(systemAnnouncement.id, id));
  return row;
}

export async function lockAnnouncement(tx: DbOrTx, id: string): Promise<AnnouncementRow | undefined> {
  const [row] = await tx.select().from(systemAnnouncement).where(eq(systemAnnouncement.id, id)).for("update");
  return row;
}

export async function insertAnnouncement(tx: DbOrTx, values: NewAnnouncement): Promise<void> {
  await tx.insert(systemAnnouncement).values(values);
}

export async function updateAnnouncement(
  tx: DbOrTx,
  id: string,
  values: Partial<NewAnnouncement>,
): Promise<void> {
  await tx
    .update(systemAnnouncement)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(systemAnnouncement.id, id));
}

export async function deleteAnnouncement(tx: DbOrTx, id: string): Promise<void> {
  await tx.delete(systemAnnouncement).where(eq(systemAnnouncement.id, id));
}

export async function listCurrent(db: DbOrTx, roles: string[], skip: number, limit: number) {
  const where = and(currentNow(), visibleTo(roles));
  const rows = await db
    .select()
    .from(systemAnnouncement)
    .where(where)
    .orderBy(asc(systemAnnouncement.priority), desc(systemAnnouncement.startAt), asc(systemAnnouncement.id))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(systemAnnouncement).where(where);
  return { rows, total: n };
}

export async function countCurrent(db: DbOrTx, roles: string[]): Promise<number> {
  const [{ n }] = await db
    .select({ n: count() })
    .from(systemAnnouncement)
    .where(and(currentNow(), visibleTo(roles)) as SQL);
  return n;
}

/** Announcements whose notification is due: notify, not yet sent, active and started (not ended). */
export async function dueForFanOut(db: DbOrTx, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: systemAnnouncement.id })
    .from(systemAnnouncement)
    .where(and(eq(systemAnnouncement.notify, true), isNull(systemAnnouncement.notifiedAt), currentNow()))
    .orderBy(asc(systemAnnouncement.startAt))
    .limit(limit);
  return rows.map((r) => r.id);
}

/**
 * Claims the fan-out: sets `notified_at` only while it is still null and the announcement is due.
 * Of two concurrent claimers the second waits on the row lock and then matches nothing, so the
 * notifications go out once.
 */
export async function claimFanOut(tx: DbOrTx, id: string): Promise<AnnouncementRow | undefined> {
  const [row] = await tx
    .update(systemAnnouncement)
    .set({ notifiedAt: sql`now()` })
    .where(
      and(
        eq(systemAnnouncement.id, id),
        eq(systemAnnouncement.notify, true),
        isNull(systemAnnouncement.notifiedAt),
        currentNow(),
      ),
    )
    .returning();
  return row;
}
