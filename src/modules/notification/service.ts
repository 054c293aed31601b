import type { Database, DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import type { NotificationType } from "@/db/schema/collaboration";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { page } from "@/lib/schema";
import type {
  Notification,
  NotificationListQuery,
  NotificationTemplate,
  TemplateListQuery,
  TemplatePatch,
} from "./model";
import * as q from "./queries";
import { BUILT_IN, placeholdersOf, TEMPLATE_VARIABLES } from "./templates";

/* The caller's own notifications (api.md §2.10) and the admin template routes (§2.12.7). */

const notFound = () => problem("NOTIFICATION_NOT_FOUND");

export function toNotification(r: q.NotificationView): Notification {
  const n = r.n;
  return {
    id: n.id,
    type: n.type as Notification["type"],
    title: n.title,
    message: n.message,
    icon: n.icon,
    linkUrl: n.linkUrl,
    projectId: n.projectId,
    referenceType: n.referenceType as Notification["referenceType"],
    referenceId: n.referenceId,
    actor: r.actor,
    isRead: n.isRead,
    readAt: n.readAt ? n.readAt.toISOString() : null,
    createdAt: n.createdAt.toISOString(),
    updatedAt: n.updatedAt.toISOString(),
  };
}

export async function list(db: DbOrTx, userId: string, query: NotificationListQuery) {
  const skip = query.skip ?? 0;
  const limit = query.limit ?? 50;
  const [{ rows, total }, unreadCount] = await Promise.all([
    q.listOwn(db, userId, { isRead: query.isRead, type: query.type }, skip, limit),
    q.unreadCount(db, userId),
  ]);
  return { ...page(rows.map(toNotification), total, skip, limit), unreadCount };
}

export async function unreadCount(db: DbOrTx, userId: string) {
  return { unreadCount: await q.unreadCount(db, userId) };
}

export async function get(db: DbOrTx, userId: string, id: string): Promise<Notification> {
  const row = await q.findOwn(db, userId, id);
  if (!row) throw notFound();
  return toNotification(row);
}

export async function markRead(db: Database, userId: string, id: string): Promise<Notification> {
  if (!(await q.markRead(db, userId, id))) throw notFound();
  return get(db, userId, id);
}

export async function markAllRead(db: Database, userId: string) {
  return { updatedCount: await q.markAllRead(db, userId) };
}

export async function remove(db: Database, userId: string, id: string): Promise<void> {
  if (!(await q.deleteOwn(db, userId, id))) throw notFound();
}

/* ---- templates ---- */

function toTemplate(r: q.TemplateRow): NotificationTemplate {
  return {
    id: r.id,
    eventType: r.eventType as NotificationTemplate["eventType"],
    language: r.language as NotificationTemplate["language"],
    name: r.name,
    titleTemplate: r.titleTemplate,
    bodyTemplate: r.bodyTemplate,
    variables: r.variables,
    isActive: r.isActive,
    updatedAt: r.updatedAt.toISOString(),
  };
}

/**
 * The 12 seeded rows (6 types × ja/en) with the built-in text; rows that exist are left alone,
 * so admin edits survive every restart and `bun run seed`. Returns how many were created.
 */
export function seedTemplates(db: DbOrTx): Promise<number> {
  const rows = q.NOTIFICATION_TYPES.flatMap((type) =>
    (["ja", "en"] as const).map((language) => ({
      id: newId(),
      eventType: type,
      language,
      name: BUILT_IN[type][language].name,
      titleTemplate: BUILT_IN[type][language].title,
      bodyTemplate: BUILT_IN[type][language].body,
      variables: [...TEMPLATE_VARIABLES[type]],
    })),
  );
  return q.insertMissingTemplates(db, rows);
}

/* A database that was migrated but never seeded (tests, a fresh install with SEED_ON_START=false) still lists all 12. */
const seeded = new WeakSet<object>();
async function ensureSeeded(db: Database): Promise<void> {
  if (seeded.has(db)) return;
  await seedTemplates(db);
  seeded.add(db);
}

export async function listTemplates(db: Database, query: TemplateListQuery) {
  await ensureSeeded(db);
  const skip = query.skip ?? 0;
  const limit = query.limit ?? 50;
  const { rows, total } = await q.listTemplates(db, query, skip, limit);
  return page(rows.map(toTemplate), total, skip, limit);
}

export type TemplateDeps = { db: Database; actor: AuditActor };

export async function patchTemplate(deps: TemplateDeps, id: string, body: TemplatePatch) {
  await ensureSeeded(deps.db);
  return deps.db.transaction(async (tx) => {
    const before = await q.lockTemplate(tx, id);
    if (!before) throw problem("TEMPLATE_NOT_FOUND", { detail: "No such notification template." });
    const allowed = new Set(before.variables);
    const errors = (["titleTemplate", "bodyTemplate"] as const).flatMap((field) => {
      const text = body[field];
      if (text === undefined) return [];
      const unknown = placeholdersOf(text).filter((p) => !allowed.has(p));
      return unknown.length === 0
        ? []
        : [
            {
              path: `/body/${field}`,
              message: `unknown placeholder ${unknown.map((p) => `{${p}}`).join(", ")}`,
            },
          ];
    });
    if (errors.length > 0) {
      throw problem("VALIDATION_FAILED", {
        detail: `Placeholders must be among the template's variables: ${before.variables.join(", ")}.`,
        errors,
      });
    }
    if (body.name !== undefined && !body.name.trim()) {
      errors.push({ path: "/body/name", message: "must contain text other than spaces" });
    }
    if (errors.length > 0) {
      throw problem("VALIDATION_FAILED", { detail: "The template name is empty.", errors });
    }
    const values = {
      name: body.name?.trim(),
      titleTemplate: body.titleTemplate,
      bodyTemplate: body.bodyTemplate,
      isActive: body.isActive,
    };
    const after = await q.updateTemplate(tx, id, values);
    const pick = (r: q.TemplateRow) => ({
      name: r.name,
      titleTemplate: r.titleTemplate,
      bodyTemplate: r.bodyTemplate,
      isActive: r.isActive,
    });
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "UPDATE",
      resourceType: "notification_template",
      resourceId: id,
      oldValue: pick(before),
      newValue: pick(after),
      metadata: { eventType: before.eventType as NotificationType, language: before.language },
    });
    return toTemplate(after);
  });
}
