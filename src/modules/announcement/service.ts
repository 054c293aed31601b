import type { Database, DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { page } from "@/lib/schema";
import { announcementBatch } from "@/modules/notification/producers";
import type {
  Announcement,
  AnnouncementCreate,
  AnnouncementListQuery,
  AnnouncementPatch,
  CurrentAnnouncement,
} from "./model";
import * as q from "./queries";

/*
 * System announcements (api.md §2.12.6). With `notify`, the `announcement` notification goes to
 * every matching active user once the announcement is active: right after the creating (or
 * patching) transaction when it already started, else from the minute job. Unlike the other
 * producers this runs in its own transaction, in batches of 1000 users; `notified_at` is claimed
 * first with a conditional UPDATE, so two instances or a job and a request never both send it.
 */

export type AnnouncementDeps = { db: Database; actor: AuditActor };

export const FAN_OUT_BATCH = 1000;

const notFound = () => problem("ANNOUNCEMENT_NOT_FOUND");
const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toAnnouncement(v: q.AnnouncementView): Announcement {
  const a = v.a;
  return {
    id: a.id,
    title: a.title,
    content: a.content,
    announcementType: a.announcementType as Announcement["announcementType"],
    priority: a.priority,
    startAt: a.startAt.toISOString(),
    endAt: iso(a.endAt),
    isActive: a.isActive,
    targetRoles: (a.targetRoles as Announcement["targetRoles"]) ?? null,
    notify: a.notify,
    notifiedAt: iso(a.notifiedAt),
    createdBy: v.createdBy,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

function toCurrent(a: q.AnnouncementRow): CurrentAnnouncement {
  return {
    id: a.id,
    title: a.title,
    content: a.content,
    announcementType: a.announcementType as CurrentAnnouncement["announcementType"],
    priority: a.priority,
    startAt: a.startAt.toISOString(),
    endAt: iso(a.endAt),
  };
}

function checkRange(startAt: Date, endAt: Date | null): void {
  if (endAt && endAt.getTime() <= startAt.getTime()) {
    throw problem("INVALID_DATE_RANGE", { detail: "endAt must be after startAt." });
  }
}

function trimmed(value: string, path: string): string {
  const v = value.trim();
  if (!v) {
    throw problem("VALIDATION_FAILED", {
      detail: "The text is empty.",
      errors: [{ path, message: "must contain text other than spaces" }],
    });
  }
  return v;
}

const auditView = (a: q.AnnouncementRow) => ({
  title: a.title,
  announcementType: a.announcementType,
  priority: a.priority,
  startAt: a.startAt.toISOString(),
  endAt: iso(a.endAt),
  isActive: a.isActive,
  targetRoles: a.targetRoles,
  notify: a.notify,
});

async function view(db: DbOrTx, id: string): Promise<Announcement> {
  const row = await q.findView(db, id);
  if (!row) throw notFound();
  return toAnnouncement(row);
}

export async function list(db: DbOrTx, query: AnnouncementListQuery) {
  const skip = query.skip ?? 0;
  const limit = query.limit ?? 50;
  const { rows, total } = await q.listAll(db, query, skip, limit);
  return page(rows.map(toAnnouncement), total, skip, limit);
}

export const get = view;

export async function create(deps: AnnouncementDeps, body: AnnouncementCreate): Promise<Announcement> {
  const id = newId();
  const startAt = body.startAt ? new Date(body.startAt) : new Date();
  const endAt = body.endAt ? new Date(body.endAt) : null;
  checkRange(startAt, endAt);
  const result = await deps.db.transaction(async (tx) => {
    const values = {
      id,
      title: trimmed(body.title, "/body/title"),
      content: trimmed(body.content, "/body/content"),
      announcementType: body.announcementType,
      priority: body.priority ?? 5,
      startAt,
      endAt,
      isActive: body.isActive ?? true,
      targetRoles: body.targetRoles && body.targetRoles.length > 0 ? body.targetRoles : null,
      notify: body.notify ?? false,
      createdBy: deps.actor.userId,
    };
    await q.insertAnnouncement(tx, values);
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "system_announcement",
      resourceId: id,
      newValue: auditView({ ...values, notifiedAt: null, createdAt: new Date(), updatedAt: new Date() }),
    });
    return view(tx, id);
  });
  if (result.notify) await fanOutSafely(deps.db, id);
  return result.notify ? view(deps.db, id) : result;
}

export async function update(
  deps: AnnouncementDeps,
  id: string,
  body: AnnouncementPatch,
): Promise<Announcement> {
  await deps.db.transaction(async (tx) => {
    const before = await q.lockAnnouncement(tx, id);
    if (!before) throw notFound();
    const startAt = body.startAt ? new Date(body.startAt) : before.startAt;
    const endAt = body.endAt === undefined ? before.endAt : body.endAt === null ? null : new Date(body.endAt);
    checkRange(startAt, endAt);
    const values = {
      title: body.title === undefined ? undefined : trimmed(body.title, "/body/title"),
      content: body.content === undefined ? undefined : trimmed(body.content, "/body/content"),
      announcementType: body.announcementType,
      priority: body.priority,
      startAt: body.startAt ? startAt : undefined,
      endAt: body.endAt === undefined ? undefined : endAt,
      isActive: body.isActive,
      targetRoles:
        body.targetRoles === undefined
          ? undefined
          : body.targetRoles && body.targetRoles.length > 0
            ? body.targetRoles
            : null,
      notify: body.notify,
    };
    await q.updateAnnouncement(tx, id, values);
    const after = {
      ...before,
      ...Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)),
    };
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "UPDATE",
      resourceType: "system_announcement",
      resourceId: id,
      oldValue: auditView(before),
      newValue: auditView(after as q.AnnouncementRow),
    });
  });
  // Turning `notify` on, or moving the start into the past, may make it due now.
  await fanOutSafely(deps.db, id);
  return view(deps.db, id);
}

export async function remove(deps: AnnouncementDeps, id: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const before = await q.lockAnnouncement(tx, id);
    if (!before) throw notFound();
    await q.deleteAnnouncement(tx, id);
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "system_announcement",
      resourceId: id,
      oldValue: auditView(before),
    });
  });
}

export async function listCurrent(db: DbOrTx, roles: string[], query: { skip?: number; limit?: number }) {
  const skip = query.skip ?? 0;
  const limit = query.limit ?? 50;
  const { rows, total } = await q.listCurrent(db, roles, skip, limit);
  return page(rows.map(toCurrent), total, skip, limit);
}

export const countCurrent = q.countCurrent;

/**
 * Sends the announcement's notifications if it is due and nobody sent them yet; answers how many
 * were written (0 when not due, already sent, or claimed by someone else).
 */
export async function fanOut(db: Database, id: string, batch = FAN_OUT_BATCH): Promise<number> {
  return db.transaction(async (tx) => {
    const a = await q.claimFanOut(tx, id);
    if (!a) return 0;
    let after: string | null = null;
    let total = 0;
    do {
      const r = await announcementBatch(tx, a, after, batch);
      total += r.notified;
      after = r.lastId;
    } while (after);
    return total;
  });
}

/* After the announcement itself committed: a failed fan-out is retried by the minute job. */
async function fanOutSafely(db: Database, id: string): Promise<void> {
  await fanOut(db, id).catch(() => 0);
}

/** The minute job (api.md §4.4): every announcement that became due since the last run. */
export async function fanOutDue(db: Database): Promise<{ announcements: number; notified: number }> {
  let announcements = 0;
  let notified = 0;
  for (const id of await q.dueForFanOut(db, 100)) {
    const n = await fanOut(db, id);
    announcements++;
    notified += n;
  }
  return { announcements, notified };
}
