import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { NoContent, Page } from "@/lib/schema";
import { type AuthState, authPlugin } from "@/plugins/auth";
import {
  Announcement,
  AnnouncementCreate,
  AnnouncementListQuery,
  AnnouncementParams,
  AnnouncementPatch,
  CurrentAnnouncement,
  CurrentListQuery,
} from "./model";
import * as service from "./service";

/* What signed-in users see now (api.md §2.12.6, the one announcement route outside /admin). */
export function announcementController(deps: AppDeps) {
  const db = deps.database.db;
  return new Elysia({ name: "announcement", prefix: "/announcements" })
    .use(authPlugin(deps))
    .get("", ({ caller, query }) => service.listCurrent(db, caller.user.roles, query), {
      auth: true,
      query: CurrentListQuery,
      response: Page(CurrentAnnouncement),
      detail: {
        tags: ["notifications"],
        operationId: "announcement.current",
        summary: "Current announcements",
        description:
          "Active announcements whose window contains now and whose target roles include one of the caller's (or that target everyone); by priority (1 first), then newest start.",
      },
    });
}

/* Announcement administration (api.md §2.12.6), inside the one admin guard. */
export function adminAnnouncementController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["admin"];
  const announcementDeps = (auth: AuthState): service.AnnouncementDeps => ({ db, actor: auth.actor });

  return new Elysia({ name: "admin-announcement", prefix: "/admin/announcements" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        .get("", ({ query }) => service.list(db, query), {
          query: AnnouncementListQuery,
          response: Page(Announcement),
          detail: {
            tags,
            operationId: "admin.announcement.list",
            summary: "Announcements (admin)",
            description:
              "System admins only. Every announcement, newest start first; `current=true` keeps those shown now.",
          },
        })
        .post(
          "",
          async ({ body, auth, set }) => {
            const created = await service.create(announcementDeps(auth), body);
            set.status = 201;
            set.headers.Location = `/api/v1/admin/announcements/${created.id}`;
            return created;
          },
          {
            body: AnnouncementCreate,
            response: { 201: Announcement },
            detail: {
              tags,
              operationId: "admin.announcement.create",
              "x-problem-codes": ["INVALID_DATE_RANGE"],
              summary: "Create an announcement (admin)",
              description:
                "System admins only. With `notify=true` every active user in `targetRoles` (everyone when empty) whose announcement toggle is on gets an `announcement` notification: at once when `startAt` is not in the future, else within a minute of `startAt` (background job); never twice. Audited (DATA_CHANGE/CREATE).",
            },
          },
        )
        .get("/:announcementId", ({ params }) => service.get(db, params.announcementId), {
          params: AnnouncementParams,
          response: Announcement,
          detail: {
            tags,
            operationId: "admin.announcement.get",
            "x-problem-codes": ["ANNOUNCEMENT_NOT_FOUND"],
            summary: "One announcement (admin)",
            description: "System admins only.",
          },
        })
        .patch(
          "/:announcementId",
          ({ params, body, auth }) => service.update(announcementDeps(auth), params.announcementId, body),
          {
            params: AnnouncementParams,
            body: AnnouncementPatch,
            response: Announcement,
            detail: {
              tags,
              operationId: "admin.announcement.update",
              "x-problem-codes": ["ANNOUNCEMENT_NOT_FOUND", "INVALID_DATE_RANGE"],
              summary: "Change an announcement (admin)",
              description:
                "System admins only. Any subset of the create body; `endAt: null` removes the end. Notifications already sent are not sent again. Audited (DATA_CHANGE/UPDATE).",
            },
          },
        )
        .delete(
          "/:announcementId",
          async ({ params, auth, set }) => {
            await service.remove(announcementDeps(auth), params.announcementId);
            set.status = 204;
          },
          {
            params: AnnouncementParams,
            response: NoContent,
            detail: {
              tags,
              operationId: "admin.announcement.delete",
              "x-problem-codes": ["ANNOUNCEMENT_NOT_FOUND"],
              summary: "Delete an announcement (admin)",
              description:
                "System admins only. Notifications already delivered stay with their recipients. Audited (DATA_CHANGE/DELETE).",
            },
          },
        ),
    );
}
