import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { Page } from "@/lib/schema";
import { ProjectParams } from "@/modules/project/model";
import { projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import {
  SessionCreate,
  SessionDetail,
  SessionListQuery,
  SessionParams,
  SessionPatch,
  SessionSummary,
} from "./model";
import * as service from "./service";

export function analysisSessionController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["analysis"];
  const sessionDeps = (auth: { actor: service.SessionDeps["actor"] }) => ({ db, actor: auth.actor });

  return new Elysia({ name: "analysis-session", prefix: "/project/:projectId/analysis/session" })
    .use(projectAccessPlugin(deps))
    .get("", ({ access, query }) => service.listSessions(db, access.project.id, query), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      query: SessionListQuery,
      response: Page(SessionSummary),
      detail: { tags, summary: "Analysis sessions of the project (V+)" },
    })
    .post(
      "",
      async ({ caller, auth, access, body, set }) => {
        const session = await service.createSession(sessionDeps(auth), caller, access, body);
        set.status = 201;
        set.headers.Location = `/api/v1/project/${access.project.id}/analysis/session/${session.id}`;
        return session;
      },
      {
        project: requireProjectRole("member"),
        params: ProjectParams,
        body: SessionCreate,
        response: { 201: SessionDetail },
        detail: { tags, summary: "Create a session on a catalogue issue (snapshot 0 with its recipe; M+)" },
      },
    )
    .get(
      "/:sessionId",
      ({ access, params }) => service.getSessionDetail(db, access.project.id, params.sessionId),
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        response: SessionDetail,
        detail: { tags, summary: "Session with snapshots, chats, steps and files (V+)" },
      },
    )
    .patch(
      "/:sessionId",
      ({ caller, auth, access, params, body }) =>
        service.updateSession(sessionDeps(auth), caller, access, params.sessionId, body),
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        body: SessionPatch,
        response: SessionSummary,
        detail: { tags, summary: "Rename, change status or prompts (creator, moderator or manager)" },
      },
    )
    .delete(
      "/:sessionId",
      async ({ caller, auth, access, params, set }) => {
        await service.deleteSession(sessionDeps(auth), caller, access, params.sessionId);
        set.status = 204;
      },
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        detail: { tags, summary: "Delete a session and everything in it (creator, moderator or manager)" },
      },
    );
}
