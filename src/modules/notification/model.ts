import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";

export const NotificationTypeSchema = t.Union(
  [
    t.Literal("member_added"),
    t.Literal("member_removed"),
    t.Literal("file_uploaded"),
    t.Literal("session_completed"),
    t.Literal("tree_updated"),
    t.Literal("announcement"),
  ],
  { description: "NotificationType" },
);

export const Notification = t.Object(
  {
    id: Uuid,
    type: NotificationTypeSchema,
    title: t.String(),
    message: t.Union([t.String(), t.Null()]),
    icon: t.Union([t.String(), t.Null()]),
    linkUrl: t.Union([t.String(), t.Null()]),
    projectId: t.Union([Uuid, t.Null()]),
    referenceType: t.Union([
      t.Literal("project"),
      t.Literal("session"),
      t.Literal("file"),
      t.Literal("tree"),
      t.Literal("announcement"),
      t.Null(),
    ]),
    referenceId: t.Union([Uuid, t.Null()]),
    actor: t.Union([UserRef, t.Null()]),
    isRead: t.Boolean(),
    readAt: t.Union([Ts, t.Null()]),
    createdAt: Ts,
    updatedAt: Ts,
  },
  { title: "Notification", description: "One notification of the caller (api.md §2.10)" },
);
export type Notification = typeof Notification.static;

export const NotificationListQuery = Closed({
  ...PageQuery,
  isRead: t.Optional(t.Boolean({ description: "Only read (true) or only unread (false) items" })),
  type: t.Optional(t.Union(NotificationTypeSchema.anyOf, { description: "Only this notification type" })),
});
export type NotificationListQuery = typeof NotificationListQuery.static;

export const NotificationPage = t.Object(
  {
    items: t.Array(Notification),
    total: Int({ minimum: 0 }),
    skip: Int({ minimum: 0 }),
    limit: Int({ minimum: 1 }),
    unreadCount: Int({ minimum: 0 }),
  },
  { title: "Page_Notification_WithUnread" },
);

export const UnreadCount = t.Object({ unreadCount: Int({ minimum: 0 }) }, { title: "UnreadCount" });
export const ReadAllResult = t.Object({ updatedCount: Int({ minimum: 0 }) }, { title: "ReadAllResult" });

export const NotificationParams = Closed({ notificationId: IdOf("Notification") });

export const StreamHeaders = t.Object({
  "last-event-id": t.Optional(
    t.String({ description: "Resume after this notification id (sent by EventSource on reconnect)" }),
  ),
});

/* ---- templates (admin) ---- */

export const TemplateLanguage = t.Union([t.Literal("ja"), t.Literal("en")]);

export const NotificationTemplate = t.Object(
  {
    id: Uuid,
    eventType: NotificationTypeSchema,
    language: TemplateLanguage,
    name: t.String(),
    titleTemplate: t.String(),
    bodyTemplate: t.String(),
    variables: t.Array(t.String()),
    isActive: t.Boolean(),
    updatedAt: Ts,
  },
  { title: "NotificationTemplate", description: "The text of one notification type in one language" },
);
export type NotificationTemplate = typeof NotificationTemplate.static;

export const TemplateListQuery = Closed({
  ...PageQuery,
  eventType: t.Optional(
    t.Union(NotificationTypeSchema.anyOf, { description: "Only this notification type" }),
  ),
  language: t.Optional(t.Union(TemplateLanguage.anyOf, { description: "Only this language (ja, en)" })),
});
export type TemplateListQuery = typeof TemplateListQuery.static;

export const TemplateParams = Closed({ templateId: IdOf("Notification template") });

export const TemplatePatch = Closed(
  {
    name: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
    titleTemplate: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
    bodyTemplate: t.Optional(t.String({ minLength: 1, maxLength: 5000 })),
    isActive: t.Optional(t.Boolean()),
  },
  { title: "NotificationTemplatePatch" },
);
export type TemplatePatch = typeof TemplatePatch.static;
