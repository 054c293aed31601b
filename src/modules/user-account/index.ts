import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { NoContent, Page } from "@/lib/schema";
import { authPlugin } from "@/plugins/auth";
import {
  MePatch,
  ReasonBody,
  RoleBody,
  RoleHistoryEntry,
  RoleHistoryQuery,
  UserAccount,
  UserContext,
  UserIdParams,
  UserListQuery,
  UserSettings,
  UserSettingsPatch,
} from "./model";
import * as service from "./service";

export function userAccountController(deps: AppDeps) {
  const db = deps.database.db;
  const accountDeps = (auth: { actor: service.AccountDeps["actor"] }) => ({
    db,
    cache: deps.cache,
    actor: auth.actor,
  });
  const tags = ["user_account"];

  return new Elysia({ name: "user-account", prefix: "/user_account" })
    .use(authPlugin(deps))
    .get("", ({ query }) => service.listUsers(db, query), {
      admin: true,
      query: UserListQuery,
      response: Page(UserAccount),
      detail: { tags, summary: "List users (admin)" },
    })
    .get("/me", ({ caller }) => service.getUser(db, caller.user.id), {
      auth: true,
      response: UserAccount,
      detail: { tags, summary: "The caller's account" },
    })
    .patch("/me", ({ caller, auth, body }) => service.updateMe(accountDeps(auth), caller.user.id, body), {
      auth: true,
      body: MePatch,
      response: UserAccount,
      detail: {
        tags,
        summary: "Update the caller's display name",
        "x-problem-codes": ["SELF_ACTION_FORBIDDEN"],
      },
    })
    .get("/me/context", ({ caller }) => service.getContext(db, caller), {
      auth: true,
      response: UserContext,
      detail: { tags, summary: "Everything the UI needs after sign-in" },
    })
    .get("/me/settings", ({ caller }) => service.getSettings(db, caller.user.id), {
      auth: true,
      response: UserSettings,
      detail: { tags, summary: "The caller's settings (created with defaults on first read)" },
    })
    .patch(
      "/me/settings",
      ({ caller, auth, body }) => service.updateSettings(accountDeps(auth), caller.user.id, body),
      {
        auth: true,
        body: UserSettingsPatch,
        response: UserSettings,
        detail: { tags, summary: "Update the caller's settings (deep partial)" },
      },
    )
    .post(
      "/logout",
      async ({ caller, auth, set }) => {
        await service.logout(accountDeps(auth), caller);
        set.status = 204;
      },
      { auth: true, response: NoContent, detail: { tags, summary: "End the caller's auth session" } },
    )
    .get("/:userId", ({ params }) => service.getUser(db, params.userId), {
      admin: true,
      params: UserIdParams,
      response: UserAccount,
      detail: { tags, summary: "One user (admin)", "x-problem-codes": ["USER_NOT_FOUND"] },
    })
    .patch(
      "/:userId/activate",
      ({ params, caller, auth, body }) =>
        service.setActive(accountDeps(auth), caller, params.userId, true, body?.reason),
      {
        admin: true,
        params: UserIdParams,
        body: ReasonBody,
        response: UserAccount,
        detail: {
          tags,
          summary: "Activate a user (admin, idempotent)",
          "x-problem-codes": ["USER_NOT_FOUND", "SELF_ACTION_FORBIDDEN", "LAST_SYSTEM_ADMIN"],
        },
      },
    )
    .patch(
      "/:userId/deactivate",
      ({ params, caller, auth, body }) =>
        service.setActive(accountDeps(auth), caller, params.userId, false, body?.reason),
      {
        admin: true,
        params: UserIdParams,
        body: ReasonBody,
        response: UserAccount,
        detail: {
          tags,
          summary: "Deactivate a user and end their sessions (admin, not self)",
          "x-problem-codes": ["USER_NOT_FOUND", "SELF_ACTION_FORBIDDEN", "LAST_SYSTEM_ADMIN"],
        },
      },
    )
    .put(
      "/:userId/role",
      ({ params, caller, auth, body }) =>
        service.setRoles(accountDeps(auth), caller, params.userId, body.roles, body.reason),
      {
        admin: true,
        params: UserIdParams,
        body: RoleBody,
        response: UserAccount,
        detail: {
          tags,
          summary: "Set system roles (admin, not self); writes role history",
          "x-problem-codes": ["USER_NOT_FOUND", "SELF_ACTION_FORBIDDEN", "LAST_SYSTEM_ADMIN"],
        },
      },
    )
    .delete(
      "/:userId",
      async ({ params, caller, auth, set }) => {
        await service.deleteUser(accountDeps(auth), caller, params.userId);
        set.status = 204;
      },
      {
        admin: true,
        params: UserIdParams,
        response: NoContent,
        detail: {
          tags,
          summary: "Delete a user (admin, not self)",
          "x-problem-codes": [
            "USER_NOT_FOUND",
            "SELF_ACTION_FORBIDDEN",
            "LAST_SYSTEM_ADMIN",
            "LAST_PROJECT_MANAGER",
          ],
        },
      },
    )
    .get(
      "/:userId/role_history",
      ({ params, caller, query }) => service.listRoleHistory(db, caller, params.userId, query),
      {
        auth: true,
        params: UserIdParams,
        query: RoleHistoryQuery,
        response: Page(RoleHistoryEntry),
        detail: {
          tags,
          summary: "Role history (admin, or self)",
          "x-problem-codes": ["USER_NOT_FOUND", "ADMIN_REQUIRED"],
        },
      },
    );
}
