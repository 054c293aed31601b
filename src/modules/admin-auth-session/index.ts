import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { Page } from "@/lib/schema";
import { type AuthState, authPlugin } from "@/plugins/auth";
import {
  AuthSession,
  SessionIdParams,
  SessionListQuery,
  SessionPage,
  TerminateAllResult,
  TerminateBody,
  UserIdParams,
  UserSessionQuery,
} from "./model";
import * as service from "./service";

/* Auth sessions and forced logout (api.md §2.12.8), inside the one admin guard. */
export function adminAuthSessionController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["admin"];
  const sessionDeps = (auth: AuthState): service.SessionDeps => ({
    db,
    cache: deps.cache,
    actor: auth.actor,
  });

  return new Elysia({ name: "admin-auth-session", prefix: "/admin/sessions" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        .get("", ({ query }) => service.list(db, query), {
          query: SessionListQuery,
          response: SessionPage,
          detail: {
            tags,
            operationId: "admin.session.list",
            summary: "List auth sessions (admin)",
            description:
              "System admins only. Auth sessions, newest first, filtered by user, IP and state (default active), with the number of active sessions and of sign-ins today (UTC).",
          },
        })
        .get("/user/:userId", ({ params, query }) => service.listOfUser(db, params.userId, query), {
          params: UserIdParams,
          query: UserSessionQuery,
          response: Page(AuthSession),
          detail: {
            tags,
            operationId: "admin.session.listOfUser",
            "x-problem-codes": ["USER_NOT_FOUND"],
            summary: "List one user's auth sessions (admin)",
            description: "System admins only. One user's auth sessions, newest first.",
          },
        })
        .post(
          "/:sessionId/terminate",
          ({ params, body, auth }) => service.terminate(sessionDeps(auth), params.sessionId, body?.reason),
          {
            params: SessionIdParams,
            body: TerminateBody,
            response: AuthSession,
            detail: {
              tags,
              operationId: "admin.session.terminate",
              "x-problem-codes": ["AUTH_SESSION_NOT_FOUND", "SESSION_ALREADY_ENDED"],
              summary: "Force one session out (admin)",
              description:
                "System admins only. Ends the session (`endReason=FORCED`); its next request on any instance answers 401 SESSION_REVOKED. Audited (SECURITY/SESSION_TERMINATE).",
            },
          },
        )
        .post(
          "/user/:userId/terminate-all",
          ({ params, body, auth }) => service.terminateAll(sessionDeps(auth), params.userId, body?.reason),
          {
            params: UserIdParams,
            body: TerminateBody,
            response: TerminateAllResult,
            detail: {
              tags,
              operationId: "admin.session.terminateAll",
              "x-problem-codes": ["USER_NOT_FOUND"],
              summary: "Force a user out everywhere (admin)",
              description:
                "System admins only. Ends every open session of the user and raises the user's revocation watermark, so any token issued before now is refused with 401 SESSION_REVOKED, even on a session not seen yet. Blocking new sign-ins needs deactivation. Audited.",
            },
          },
        ),
    );
}
