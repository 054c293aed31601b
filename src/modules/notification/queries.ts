import { and, asc, count, desc, eq, gt, inArray, type SQL, sql } from "drizzle-orm";
import { type DbOrTx, rowsOf } from "@/db/client";
import { userRef } from "@/db/queries/user-ref";
import {
  analysisSession,
  driverTree,
  notificationTemplate,
  project,
  projectMember,
  systemSetting,
  userAccount,
  userNotification,
  userSettings,
} from "@/db/schema";
import type { NotificationType } from "@/db/schema/collaboration";

export { NOTIFICATION_TYPES } from "@/db/schema/collaboration";

/* SQL of the notification module: the one writer of user_notification (api.md §2.10, §3.7). */

export type NotificationRow = typeof userNotification.$inferSelect;
export type NewNotification = typeof userNotification.$inferInsert;
export type TemplateRow = typeof notificationTemplate.$inferSelect;

export type Toggle =
  | "memberChanges"
  | "fileUploaded"
  | "sessionCompleted"
  | "treeUpdated"
  | "systemAnnouncement";

const TOGGLE_COLUMN = {
  memberChanges: userSettings.notifyMemberChanges,
  fileUploaded: userSettings.notifyFileUploaded,
  sessionCompleted: userSettings.notifySessionCompleted,
  treeUpdated: userSettings.notifyTreeUpdated,
  systemAnnouncement: userSettings.notifyAnnouncement,
} as const;

/** Who may receive: a set of users described by SQL over `user_account`. */
export type Audience =
  | { kind: "users"; ids: string[] }
  | { kind: "members"; projectId: string }
  | { kind: "membersAmong"; projectId: string; ids: string[]; orRole?: string }
  | { kind: "roles"; roles: string[] | null; afterId: string | null; limit: number };

const isMember = (projectId: string, extra?: SQL) =>
  sql`exists (select 1 from ${projectMember} where ${projectMember.projectId} = ${projectId} and ${projectMember.userId} = ${userAccount.id}${extra ? sql` and ${extra}` : sql``})`;

function audienceWhere(a: Audience): SQL | undefined {
  switch (a.kind) {
    case "users":
      return inArray(userAccount.id, a.ids);
    case "members":
      return isMember(a.projectId);
    case "membersAmong": {
      // Named users only while they are still members, plus everyone holding `orRole`.
      const named = a.ids.length > 0 ? inArray(userAccount.id, a.ids) : sql`false`;
      return a.orRole
        ? isMember(a.projectId, sql`(${named} or ${projectMember.role} = ${a.orRole})`)
        : and(named, isMember(a.projectId));
    }
    case "roles":
      return and(
        a.roles && a.roles.length > 0 ? sql`${userAccount.roles} && ${textArray(a.roles)}` : undefined,
        a.afterId ? gt(userAccount.id, a.afterId) : undefined,
      );
  }
}

/* A text[] literal built from parameters (a bare JS array would expand to a row of values). */
export const textArray = (values: string[]) =>
  sql`array[${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )}]::text[]`;

/* NOTIFICATION.enabled (admin settings): absent means on. */
const producersEnabled = sql`not exists (select 1 from ${systemSetting} where ${systemSetting.category} = 'NOTIFICATION' and ${systemSetting.key} = 'enabled' and ${systemSetting.value} = 'false'::jsonb)`;

export type Recipient = {
  userId: string;
  language: string;
  /* The active template of the type in the recipient's language; null → the built-in text. */
  titleTemplate: string | null;
  bodyTemplate: string | null;
  projectName: string | null;
  actorName: string | null;
};

const language = sql<string>`coalesce(${userSettings.language}, 'ja')`;

/**
 * Active users of the audience whose toggle is on (no settings row = defaults: on, Japanese),
 * never the actor, and nobody while the master switch is off; ordered by id (keyset paging).
 * One round trip also brings each recipient's template and the names the texts use.
 */
export async function recipients(
  tx: DbOrTx,
  r: {
    audience: Audience;
    type: NotificationType;
    toggle: Toggle;
    actorId: string | null;
    projectId: string | null;
  },
): Promise<Recipient[]> {
  const q = tx
    .select({
      userId: userAccount.id,
      language,
      titleTemplate: notificationTemplate.titleTemplate,
      bodyTemplate: notificationTemplate.bodyTemplate,
      projectName: sql<
        string | null
      >`(select ${project.name} from ${project} where ${project.id} = ${r.projectId})`,
      actorName: sql<
        string | null
      >`(select coalesce(actor.display_name, actor.email) from user_account actor where actor.id = ${r.actorId})`,
    })
    .from(userAccount)
    .leftJoin(userSettings, eq(userSettings.userId, userAccount.id))
    .leftJoin(
      notificationTemplate,
      and(
        eq(notificationTemplate.eventType, r.type),
        eq(notificationTemplate.language, language),
        eq(notificationTemplate.isActive, true),
      ),
    )
    .where(
      and(
        eq(userAccount.isActive, true),
        sql`coalesce(${TOGGLE_COLUMN[r.toggle]}, true)`,
        r.actorId ? sql`${userAccount.id} <> ${r.actorId}` : undefined,
        audienceWhere(r.audience),
        producersEnabled,
      ),
    )
    .orderBy(asc(userAccount.id));
  return r.audience.kind === "roles" ? q.limit(r.audience.limit) : q;
}

export async function sessionFacts(tx: DbOrTx, sessionId: string) {
  const [row] = await tx
    .select({ name: analysisSession.name, creatorId: analysisSession.creatorId })
    .from(analysisSession)
    .where(eq(analysisSession.id, sessionId));
  return row;
}

export async function treeFacts(tx: DbOrTx, treeId: string) {
  const [row] = await tx
    .select({ name: driverTree.name, createdBy: driverTree.createdBy })
    .from(driverTree)
    .where(eq(driverTree.id, treeId));
  return row;
}

export async function insertNotifications(tx: DbOrTx, rows: NewNotification[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.insert(userNotification).values(rows);
}

/*
 * One unread row per (user, dedupe key): a repeat refreshes that row (text, actor, updatedAt)
 * through the partial unique index instead of adding another.
 */
export async function upsertDeduped(tx: DbOrTx, rows: NewNotification[]): Promise<void> {
  if (rows.length === 0) return;
  await tx
    .insert(userNotification)
    .values(rows)
    .onConflictDoUpdate({
      target: [userNotification.userId, userNotification.dedupeKey],
      targetWhere: sql`not ${userNotification.isRead} and ${userNotification.dedupeKey} is not null`,
      set: {
        title: sql`excluded.title`,
        message: sql`excluded.message`,
        actorId: sql`excluded.actor_id`,
        updatedAt: sql`now()`,
      },
    });
}

/* ---- the recipient's own rows ---- */

const view = {
  n: userNotification,
  actor: userRef,
};

function viewSelect(db: DbOrTx) {
  return db
    .select(view)
    .from(userNotification)
    .leftJoin(userAccount, eq(userAccount.id, userNotification.actorId));
}

export type NotificationView = Awaited<ReturnType<ReturnType<typeof viewSelect>["execute"]>>[number];

export type ListFilter = { isRead?: boolean; type?: string };

export async function listOwn(db: DbOrTx, userId: string, f: ListFilter, skip: number, limit: number) {
  const where = and(
    eq(userNotification.userId, userId),
    f.isRead === undefined ? undefined : eq(userNotification.isRead, f.isRead),
    f.type ? eq(userNotification.type, f.type) : undefined,
  );
  const rows = await viewSelect(db)
    .where(where)
    .orderBy(desc(userNotification.createdAt), desc(userNotification.id))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(userNotification).where(where);
  return { rows, total: n };
}

export async function unreadCount(db: DbOrTx, userId: string): Promise<number> {
  const [{ n }] = await db
    .select({ n: count() })
    .from(userNotification)
    .where(and(eq(userNotification.userId, userId), eq(userNotification.isRead, false)));
  return n;
}

export async function findOwn(db: DbOrTx, userId: string, id: string): Promise<NotificationView | undefined> {
  const [row] = await viewSelect(db).where(
    and(eq(userNotification.id, id), eq(userNotification.userId, userId)),
  );
  return row;
}

/** Idempotent: `readAt` keeps the first read. False when the row is not the caller's. */
export async function markRead(db: DbOrTx, userId: string, id: string): Promise<boolean> {
  const rows = await db
    .update(userNotification)
    .set({
      isRead: true,
      readAt: sql`coalesce(${userNotification.readAt}, now())`,
      updatedAt: sql`case when ${userNotification.isRead} then ${userNotification.updatedAt} else now() end`,
    })
    .where(and(eq(userNotification.id, id), eq(userNotification.userId, userId)))
    .returning({ id: userNotification.id });
  return rows.length > 0;
}

export async function markAllRead(db: DbOrTx, userId: string): Promise<number> {
  const rows = await db
    .update(userNotification)
    .set({ isRead: true, readAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(userNotification.userId, userId), eq(userNotification.isRead, false)))
    .returning({ id: userNotification.id });
  return rows.length;
}

export async function deleteOwn(db: DbOrTx, userId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(userNotification)
    .where(and(eq(userNotification.id, id), eq(userNotification.userId, userId)))
    .returning({ id: userNotification.id });
  return rows.length > 0;
}

/* ---- live delivery ---- */

/** Rows created after the event id a reconnecting client last saw (UUIDv7 ids sort by time). */
export function createdAfter(db: DbOrTx, userId: string, afterId: string, limit: number) {
  return viewSelect(db)
    .where(and(eq(userNotification.userId, userId), gt(userNotification.id, afterId)))
    .orderBy(asc(userNotification.id))
    .limit(limit);
}

/** Unread rows created or refreshed since `since` (new rows and refreshed `tree_updated` rows). */
export function unreadChangedSince(db: DbOrTx, userId: string, since: Date, limit: number) {
  return viewSelect(db)
    .where(
      and(
        eq(userNotification.userId, userId),
        eq(userNotification.isRead, false),
        sql`${userNotification.updatedAt} >= ${since.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(asc(userNotification.updatedAt), asc(userNotification.id))
    .limit(limit);
}

export async function databaseNow(db: DbOrTx): Promise<Date> {
  const [row] = rowsOf<{ ms: string }>(
    await db.execute(sql`select (extract(epoch from now()) * 1000)::text as ms`),
  );
  return new Date(Number(row.ms));
}

/* ---- templates ---- */

export type TemplateFilter = { eventType?: string; language?: string };

export async function listTemplates(db: DbOrTx, f: TemplateFilter, skip: number, limit: number) {
  const where = and(
    f.eventType ? eq(notificationTemplate.eventType, f.eventType) : undefined,
    f.language ? eq(notificationTemplate.language, f.language) : undefined,
  );
  const rows = await db
    .select()
    .from(notificationTemplate)
    .where(where)
    .orderBy(
      asc(notificationTemplate.eventType),
      asc(notificationTemplate.language),
      asc(notificationTemplate.id),
    )
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(notificationTemplate).where(where);
  return { rows, total: n };
}

export async function lockTemplate(tx: DbOrTx, id: string): Promise<TemplateRow | undefined> {
  const [row] = await tx
    .select()
    .from(notificationTemplate)
    .where(eq(notificationTemplate.id, id))
    .for("update");
  return row;
}

export async function updateTemplate(
  tx: DbOrTx,
  id: string,
  values: Partial<Pick<TemplateRow, "name" | "titleTemplate" | "bodyTemplate" | "isActive">>,
): Promise<TemplateRow> {
  const [row] = await tx
    .update(notificationTemplate)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(notificationTemplate.id, id))
    .returning();
  return row;
}

/** Inserts the missing (event type, language) rows; existing ones (maybe admin-edited) stay. */
export async function insertMissingTemplates(
  db: DbOrTx,
  rows: (typeof notificationTemplate.$inferInsert)[],
): Promise<number> {
  const inserted = await db
    .insert(notificationTemplate)
    .values(rows)
    .onConflictDoNothing()
    .returning({ id: notificationTemplate.id });
  return inserted.length;
}
