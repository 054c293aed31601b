import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { keyPrefix } from "@/lib/cache";
import { NoContent, Page } from "@/lib/schema";
import { type AuthState, authPlugin } from "@/plugins/auth";
import { NotificationHub, publishVia } from "./hub";
import {
  Notification,
  NotificationListQuery,
  NotificationPage,
  NotificationParams,
  NotificationTemplate,
  ReadAllResult,
  TemplateListQuery,
  TemplateParams,
  TemplatePatch,
  UnreadCount,
} from "./model";
import * as service from "./service";
import { HEARTBEAT_MS, notificationStream } from "./stream";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * This app's live-delivery hub: the one in `deps`, else one built now and kept there, so
 * closeDeps ends its streams and its Redis subscription.
 */
export function notificationHubOf(deps: AppDeps): NotificationHub {
  deps.notifications ??= new NotificationHub({
    db: deps.database.db,
    channel: `${keyPrefix(deps.config.appName, deps.config.environment)}notifications`,
    publish: publishVia(deps.cache.evalScript?.bind(deps.cache)),
    redisUrl: deps.cache.backend === "redis" ? deps.config.redisUrl : null,
    logger: deps.logger,
  });
  return deps.notifications;
}

/* The caller's notifications (api.md §2.10) and their live stream. */
export function notificationController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["notifications"];
  const hub = notificationHubOf(deps);

  return new Elysia({ name: "notification", prefix: "/notifications" })
    .use(authPlugin(deps))
    .get("", ({ caller, query }) => service.list(db, caller.user.id, query), {
      auth: true,
      query: NotificationListQuery,
      response: NotificationPage,
      detail: {
        tags,
        operationId: "notification.list",
        summary: "The caller's notifications",
        description:
          "Newest first, filtered by read state and type, with the caller's unread count. Rows are written by the events that cause them (member added/removed, file uploaded, session completed, tree updated, announcements).",
      },
    })
    .get("/unread-count", ({ caller }) => service.unreadCount(db, caller.user.id), {
      auth: true,
      response: UnreadCount,
      detail: {
        tags,
        operationId: "notification.unreadCount",
        summary: "The caller's unread count",
        description: "How many of the caller's notifications are unread.",
      },
    })
    .patch("/read-all", ({ caller }) => service.markAllRead(db, caller.user.id), {
      auth: true,
      response: ReadAllResult,
      detail: {
        tags,
        operationId: "notification.readAll",
        summary: "Mark all as read",
        description: "Marks every unread notification of the caller as read; answers how many changed.",
      },
    })
    .get(
      "/stream",
      ({ caller, request }) => {
        const header = request.headers.get("last-event-id")?.trim() ?? "";
        const signals = [request.signal];
        if (deps.draining) signals.push(deps.draining.signal);
        const body = notificationStream({
          db,
          hub,
          userId: caller.user.id,
          lastEventId: UUID.test(header) ? header.toLowerCase() : null,
          toNotification: service.toNotification,
          signals,
        });
        return new Response(body, {
          status: 200,
          headers: {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
          },
        });
      },
      {
        auth: true,
        detail: {
          tags,
          operationId: "notification.stream",
          summary: "Live notifications (Server-Sent Events)",
          description: `Server-Sent Events, one \`notification\` event per new notification of the caller (data = Notification, \`id:\` = its id), within about a second of the change that caused it on any instance: Redis pub/sub after the producing transaction commits, or a database poll every second without Redis. A comment line (\`: heartbeat\`) every ${HEARTBEAT_MS / 1000} s keeps proxies from closing the connection. On reconnect send \`Last-Event-ID\` (EventSource does) to receive what was created meanwhile. A refreshed unread \`tree_updated\` notification is sent again without an \`id:\` line. Use \`fetch\` with the \`Authorization\` header (EventSource cannot set headers). The stream ends when the instance shuts down; reconnect.`,
          responses: {
            200: {
              description: "text/event-stream of `notification` events",
              content: { "text/event-stream": { schema: { type: "string" } } },
            },
          },
        },
      },
    )
    .get("/:notificationId", ({ caller, params }) => service.get(db, caller.user.id, params.notificationId), {
      auth: true,
      params: NotificationParams,
      response: Notification,
      detail: {
        tags,
        operationId: "notification.get",
        "x-problem-codes": ["NOTIFICATION_NOT_FOUND"],
        summary: "One notification",
        description: "One of the caller's notifications; another user's id answers 404 like an unknown one.",
      },
    })
    .patch(
      "/:notificationId/read",
      ({ caller, params }) => service.markRead(db, caller.user.id, params.notificationId),
      {
        auth: true,
        params: NotificationParams,
        response: Notification,
        detail: {
          tags,
          operationId: "notification.read",
          "x-problem-codes": ["NOTIFICATION_NOT_FOUND"],
          summary: "Mark one as read",
          description: "Idempotent; `readAt` keeps the time of the first read.",
        },
      },
    )
    .delete(
      "/:notificationId",
      async ({ caller, params, set }) => {
        await service.remove(db, caller.user.id, params.notificationId);
        set.status = 204;
      },
      {
        auth: true,
        params: NotificationParams,
        response: NoContent,
        detail: {
          tags,
          operationId: "notification.delete",
          "x-problem-codes": ["NOTIFICATION_NOT_FOUND"],
          summary: "Delete one notification",
          description: "Removes one of the caller's notifications.",
        },
      },
    );
}

/* Notification templates (api.md §2.12.7), inside the one admin guard. */
export function adminNotificationTemplateController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["admin"];
  const templateDeps = (auth: AuthState): service.TemplateDeps => ({ db, actor: auth.actor });

  return new Elysia({ name: "admin-notification-template", prefix: "/admin/notification-templates" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        .get("", ({ query }) => service.listTemplates(db, query), {
          query: TemplateListQuery,
          response: Page(NotificationTemplate),
          detail: {
            tags,
            operationId: "admin.notificationTemplate.list",
            summary: "Notification templates (admin)",
            description:
              "System admins only. One template per notification type and language (ja, en); `variables` are the `{placeholders}` its texts may use.",
          },
        })
        .patch(
          "/:templateId",
          ({ params, body, auth }) => service.patchTemplate(templateDeps(auth), params.templateId, body),
          {
            params: TemplateParams,
            body: TemplatePatch,
            response: NotificationTemplate,
            detail: {
              tags,
              operationId: "admin.notificationTemplate.update",
              "x-problem-codes": ["TEMPLATE_NOT_FOUND"],
              summary: "Change a notification template (admin)",
              description:
                "System admins only. Texts may use only the template's `variables` as `{name}` placeholders (else 422 VALIDATION_FAILED). An inactive template makes notifications use the built-in text. Audited (DATA_CHANGE/UPDATE).",
            },
          },
        ),
    );
}
