import type { DbOrTx } from "@/db/client";
import type { NotificationType } from "@/db/schema/collaboration";
import { newId } from "@/lib/ids";
import { announceAfterCommit } from "./bus";
import {
  type Audience,
  insertNotifications,
  type NewNotification,
  type Recipient,
  recipients,
  sessionFacts,
  type Toggle,
  treeFacts,
  upsertDeduped,
} from "./queries";
import { BUILT_IN, type Language, render } from "./templates";

/*
 * The producers of api.md §2.10. Each takes the caller's transaction, so its rows commit or roll
 * back with the change they describe. Recipients are resolved in SQL: active users, the
 * recipient's toggle on, never the actor, nobody while NOTIFICATION.enabled is off; project
 * notifications only ever go to current members, so their text (which names the project) never
 * reaches anyone outside it. Text comes from the recipient's language template, or the built-in.
 */

type Spec = {
  type: NotificationType;
  toggle: Toggle;
  audience: Audience;
  actorId: string | null;
  projectId: string | null;
  referenceType: NonNullable<NewNotification["referenceType"]>;
  referenceId: string;
  linkUrl: string;
  icon: string;
  vars: Record<string, string>;
  dedupeKey?: string;
};

const ICONS: Record<NotificationType, string> = {
  member_added: "user-plus",
  member_removed: "user-minus",
  file_uploaded: "file",
  session_completed: "check-circle",
  tree_updated: "git-branch",
  announcement: "megaphone",
};

/* The recipient's template (or the built-in text) with the event's values filled in. */
function textFor(type: NotificationType, r: Recipient, vars: Record<string, string>) {
  const lang: Language = r.language === "en" ? "en" : "ja";
  const all = { projectName: r.projectName ?? "", actorName: r.actorName ?? "", ...vars };
  const title = r.titleTemplate ?? BUILT_IN[type][lang].title;
  const body = r.bodyTemplate ?? BUILT_IN[type][lang].body;
  return { title: render(title, all).slice(0, 255), message: render(body, all) };
}

function rowsFor(spec: Omit<Spec, "audience" | "toggle">, to: Recipient[]): NewNotification[] {
  return to.map((r) => ({
    id: newId(),
    userId: r.userId,
    type: spec.type,
    ...textFor(spec.type, r, spec.vars),
    icon: spec.icon,
    linkUrl: spec.linkUrl,
    projectId: spec.projectId,
    referenceType: spec.referenceType,
    referenceId: spec.referenceId,
    actorId: spec.actorId,
    dedupeKey: spec.dedupeKey ?? null,
  }));
}

async function produce(tx: DbOrTx, spec: Spec): Promise<string[]> {
  const to = await recipients(tx, {
    audience: spec.audience,
    type: spec.type,
    toggle: spec.toggle,
    actorId: spec.actorId,
    projectId: spec.projectId,
  });
  if (to.length === 0) return [];
  const rows = rowsFor(spec, to);
  if (spec.dedupeKey) await upsertDeduped(tx, rows);
  else await insertNotifications(tx, rows);
  const userIds = to.map((r) => r.userId);
  announceAfterCommit(tx, userIds);
  return userIds;
}

const projectLink = (projectId: string) => `/projects/${projectId}`;

export async function memberAdded(
  tx: DbOrTx,
  e: { projectId: string; userId: string; role: string; actorId: string },
): Promise<string[]> {
  return produce(tx, {
    type: "member_added",
    toggle: "memberChanges",
    audience: { kind: "users", ids: [e.userId] },
    actorId: e.actorId,
    projectId: e.projectId,
    referenceType: "project",
    referenceId: e.projectId,
    linkUrl: projectLink(e.projectId),
    icon: ICONS.member_added,
    vars: { role: e.role },
  });
}

/** The removed user is no longer a member; the row keeps no project link (the project is gone for them). */
export async function memberRemoved(
  tx: DbOrTx,
  e: { projectId: string; userId: string; actorId: string },
): Promise<string[]> {
  return produce(tx, {
    type: "member_removed",
    toggle: "memberChanges",
    audience: { kind: "users", ids: [e.userId] },
    actorId: e.actorId,
    projectId: e.projectId,
    referenceType: "project",
    referenceId: e.projectId,
    linkUrl: "/projects",
    icon: ICONS.member_removed,
    vars: {},
  });
}

export async function fileUploaded(
  tx: DbOrTx,
  e: {
    projectId: string;
    fileId: string;
    chainId: string;
    fileName: string;
    version: number;
    actorId: string;
  },
): Promise<string[]> {
  return produce(tx, {
    type: "file_uploaded",
    toggle: "fileUploaded",
    audience: { kind: "members", projectId: e.projectId },
    actorId: e.actorId,
    projectId: e.projectId,
    referenceType: "file",
    referenceId: e.fileId,
    linkUrl: `/projects/${e.projectId}/files/${e.chainId}`,
    icon: ICONS.file_uploaded,
    vars: { fileName: e.fileName, version: String(e.version) },
  });
}

/** To the session's creator (while still a member) and the project's managers. */
export async function sessionCompleted(
  tx: DbOrTx,
  e: { projectId: string; sessionId: string; actorId: string },
): Promise<string[]> {
  const session = await sessionFacts(tx, e.sessionId);
  if (!session) return [];
  return produce(tx, {
    type: "session_completed",
    toggle: "sessionCompleted",
    audience: {
      kind: "membersAmong",
      projectId: e.projectId,
      ids: session.creatorId ? [session.creatorId] : [],
      orRole: "project_manager",
    },
    actorId: e.actorId,
    projectId: e.projectId,
    referenceType: "session",
    referenceId: e.sessionId,
    linkUrl: `/projects/${e.projectId}/analysis/sessions/${e.sessionId}`,
    icon: ICONS.session_completed,
    vars: { sessionName: session.name },
  });
}

/** To the tree's creator (while still a member); an unread one for the same tree is refreshed. */
export async function treeUpdated(
  tx: DbOrTx,
  e: { projectId: string; treeId: string; actorId: string; message: string },
): Promise<string[]> {
  const tree = await treeFacts(tx, e.treeId);
  if (!tree?.createdBy || tree.createdBy === e.actorId) return [];
  return produce(tx, {
    type: "tree_updated",
    toggle: "treeUpdated",
    audience: { kind: "membersAmong", projectId: e.projectId, ids: [tree.createdBy] },
    actorId: e.actorId,
    projectId: e.projectId,
    referenceType: "tree",
    referenceId: e.treeId,
    linkUrl: `/projects/${e.projectId}/driver-trees/${e.treeId}`,
    icon: ICONS.tree_updated,
    vars: { treeName: tree.name, message: e.message },
    dedupeKey: `tree_updated:${e.treeId}`,
  });
}

/**
 * One batch of an announcement's fan-out: up to `limit` matching users with ids after `afterId`.
 * Returns the last user id examined (null when the audience is exhausted).
 */
export async function announcementBatch(
  tx: DbOrTx,
  a: {
    id: string;
    title: string;
    content: string;
    announcementType: string;
    targetRoles: string[] | null;
    createdBy: string | null;
  },
  afterId: string | null,
  limit: number,
): Promise<{ lastId: string | null; notified: number }> {
  const to = await recipients(tx, {
    audience: { kind: "roles", roles: a.targetRoles, afterId, limit },
    type: "announcement",
    toggle: "systemAnnouncement",
    actorId: null,
    projectId: null,
  });
  // The author is skipped here rather than in SQL so the keyset cursor still advances past them.
  const chosen = to.filter((r) => r.userId !== a.createdBy);
  if (chosen.length > 0) {
    const spec = {
      type: "announcement" as const,
      actorId: a.createdBy,
      projectId: null,
      referenceType: "announcement" as const,
      referenceId: a.id,
      linkUrl: `/announcements/${a.id}`,
      icon: ICONS.announcement,
      vars: { title: a.title, content: a.content, announcementType: a.announcementType },
    };
    await insertNotifications(tx, rowsFor(spec, chosen));
    announceAfterCommit(
      tx,
      chosen.map((r) => r.userId),
    );
  }
  return { lastId: to.length < limit ? null : to[to.length - 1].userId, notified: chosen.length };
}
