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
      detail: {
        tags,
        operationId: "user.list",
        description:
          "System admins only. Pages through all user accounts, filtered by text, status, role, Entra object id or e-mail.",
        summary: "List users (admin)",
      },
    })
    .get("/me", ({ caller }) => service.getUser(db, caller.user.id), {
      auth: true,
      response: UserAccount,
      detail: {
        tags,
        operationId: "user.me.get",
        description: "The account of the authenticated caller; any signed-in user.",
        summary: "The caller's account",
      },
    })
    .patch("/me", ({ caller, auth, body }) => service.updateMe(accountDeps(auth), caller.user.id, body), {
      auth: true,
      body: MePatch,
      response: UserAccount,
      detail: {
        tags,
        operationId: "user.me.update",
        "x-problem-codes": ["SELF_ACTION_FORBIDDEN"],
        description:
          "Changes the caller's display name. Roles and the active flag cannot be changed here (403).",
        summary: "Update the caller's display name",
      },
    })
    .get("/me/context", ({ caller }) => service.getContext(db, caller), {
      auth: true,
      response: UserContext,
      detail: {
        tags,
        operationId: "user.me.context",
        description:
          "One call after sign-in: the caller's account, permissions, navigation defaults, counters and sidebar sections.",
        summary: "Everything the UI needs after sign-in",
      },
    })
    .get("/me/settings", ({ caller }) => service.getSettings(db, caller.user.id), {
      auth: true,
      response: UserSettings,
      detail: {
        tags,
        operationId: "user.me.settings.get",
        description:
          "UI settings of the caller (theme, language, time zone, notifications, display); the defaults are stored on the first read.",
        summary: "The caller's settings (created with defaults on first read)",
      },
    })
    .patch(
      "/me/settings",
      ({ caller, auth, body }) => service.updateSettings(accountDeps(auth), caller.user.id, body),
      {
        auth: true,
        body: UserSettingsPatch,
        response: UserSettings,
        detail: {
          tags,
          operationId: "user.me.settings.update",
          description: "Deep-partial update of the caller's settings: only the given keys change.",
          summary: "Update the caller's settings (deep partial)",
        },
      },
    )
    .post(
      "/logout",
      async ({ caller, auth, set }) => {
        await service.logout(accountDeps(auth), caller);
        set.status = 204;
      },
      {
        auth: true,
        response: NoContent,
        detail: {
          tags,
          operationId: "user.me.logout",
          description: "Revokes the caller's current auth session; its token is refused afterwards.",
          summary: "End the caller's auth session",
        },
      },
    )
    .get("/:userId", ({ params }) => service.getUser(db, params.userId), {
      admin: true,
      params: UserIdParams,
      response: UserAccount,
      detail: {
        tags,
        operationId: "user.get",
        "x-problem-codes": ["USER_NOT_FOUND"],
        description: "System admins only. One user account by id.",
        summary: "One user (admin)",
      },
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
          operationId: "user.activate",
          "x-problem-codes": ["USER_NOT_FOUND", "SELF_ACTION_FORBIDDEN", "LAST_SYSTEM_ADMIN"],
          description:
            "System admins only. Reactivates a user; activating an active user changes nothing. An optional reason goes to the audit log.",
          summary: "Activate a user (admin, idempotent)",
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
          operationId: "user.deactivate",
          "x-problem-codes": ["USER_NOT_FOUND", "SELF_ACTION_FORBIDDEN", "LAST_SYSTEM_ADMIN"],
          description:
            "System admins only, never oneself. Deactivates a user and revokes all of their auth sessions.",
          summary: "Deactivate a user and end their sessions (admin, not self)",
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
          operationId: "user.role.set",
          "x-problem-codes": ["USER_NOT_FOUND", "SELF_ACTION_FORBIDDEN", "LAST_SYSTEM_ADMIN"],
          description:
            "System admins only, never oneself. Replaces the system roles of a user and records the change in the role history.",
          summary: "Set system roles (admin, not self); writes role history",
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
          operationId: "user.delete",
          "x-problem-codes": [
            "USER_NOT_FOUND",
            "SELF_ACTION_FORBIDDEN",
            "LAST_SYSTEM_ADMIN",
            "LAST_PROJECT_MANAGER",
          ],
          description:
            "System admins only, never oneself. Refused while the user is the last manager of a project or the last active system admin.",
          summary: "Delete a user (admin, not self)",
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
          operationId: "user.roleHistory.list",
          "x-problem-codes": ["USER_NOT_FOUND", "ADMIN_REQUIRED"],
          description:
            "Role changes of a user, newest first: system admins for anyone, other users for themselves.",
          summary: "Role history (admin, or self)",
        },
      },
    );
}
