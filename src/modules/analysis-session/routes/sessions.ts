import { created, noContent } from "@/http/status";
import { problem } from "@/lib/errors";
import { NoContent, Page } from "@/lib/schema";
import { ProjectParams } from "@/modules/project/model";
import { drainDeletionQueue } from "@/modules/storage-deletion/service";
import { requireProjectRole } from "@/plugins/project-access";
import * as files from "../files";
import {
  SessionCreate,
  SessionDetail,
  SessionListQuery,
  SessionParams,
  SessionPatch,
  SessionPut,
  SessionSummary,
} from "../model";
import * as service from "../service";
import { type RouteContext, routeGroup, sessionUrl, sessionWrite, TAGS, WRITE_PROBLEMS } from "./shared";

/* Sessions: list, create, read, change, select input or snapshot, delete. */
export function sessionsRoutes(ctx: RouteContext) {
  return routeGroup(ctx, "analysis-session-sessions")
    .get("", ({ access, query }) => service.listSessions(ctx.db, access.project.id, query), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      query: SessionListQuery,
      response: Page(SessionSummary),
      detail: {
        tags: TAGS,
        operationId: "session.list",
        description: "Analysis sessions of the project, filtered by status, issue, creator or name.",
        summary: "Analysis sessions of the project (V+)",
      },
    })
    .post(
      "",
      async ({ caller, auth, access, body, set }) => {
        const session = await service.createSession(ctx.sessionDeps(auth), caller, access, body);
        return created(set, session, sessionUrl(access.project.id, session.id));
      },
      {
        project: requireProjectRole("member"),
        params: ProjectParams,
        body: SessionCreate,
        response: { 201: SessionDetail },
        detail: {
          tags: TAGS,
          operationId: "session.create",
          "x-problem-codes": ["ISSUE_NOT_FOUND", "MASTER_ARCHIVED"],
          description:
            "Creates a session on a catalogue issue with snapshot 0 holding the issue's recipe. Members or higher.",
          summary: "Create a session on a catalogue issue (snapshot 0 with its recipe; M+)",
        },
      },
    )
    .get(
      "/:sessionId",
      ({ access, params }) =>
        service.getSessionDetail(ctx.db, access.project.id, params.sessionId, ctx.caches),
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        response: SessionDetail,
        detail: {
          tags: TAGS,
          operationId: "session.get",
          "x-problem-codes": ["SESSION_NOT_FOUND"],
          description: "A session with all snapshots, chat messages, steps and registered files.",
          summary: "Session with snapshots, chats, steps and files (V+)",
        },
      },
    )
    .patch("/:sessionId", (r) => service.updateSession(...sessionWrite(ctx, r), r.body), {
      project: requireProjectRole("member"),
      params: SessionParams,
      body: SessionPatch,
      response: SessionSummary,
      detail: {
        tags: TAGS,
        operationId: "session.update",
        "x-problem-codes": ["SESSION_NOT_FOUND", "NOT_OWNER", "SESSION_ARCHIVED"],
        description: "Changes name, status or prompts of a session (its creator, moderators or managers).",
        summary: "Rename, change status or prompts (creator, moderator or manager)",
      },
    })
    .put(
      "/:sessionId",
      async ({ caller, auth, access, params, body }) => {
        if (body.inputFileId === undefined && body.currentSnapshot === undefined) {
          throw problem("VALIDATION_FAILED", {
            detail: "Send inputFileId, currentSnapshot or both.",
            errors: [{ path: "/body", message: "at least one of inputFileId, currentSnapshot" }],
          });
        }
        let detail: SessionDetail | null = null;
        if (body.inputFileId !== undefined) {
          if (body.currentSnapshot !== undefined && body.currentSnapshot !== 0) {
            throw problem("VALIDATION_FAILED", {
              detail: "Selecting an input resets to snapshot 0.",
              errors: [{ path: "/body/currentSnapshot", message: "must be 0 together with inputFileId" }],
            });
          }
          detail = await files.selectInput(
            ctx.fileDeps(auth),
            caller,
            access,
            params.sessionId,
            body.inputFileId,
          );
        } else if (body.currentSnapshot !== undefined) {
          detail = await files.restoreSnapshot(
            ctx.fileDeps(auth),
            caller,
            access,
            params.sessionId,
            body.currentSnapshot,
          );
        }
        return detail!;
      },
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        body: SessionPut,
        response: SessionDetail,
        detail: {
          tags: TAGS,
          operationId: "session.select",
          description:
            "Selects the input file and/or moves the session to another snapshot (its creator, moderators or managers).",
          summary: "Select the input file and/or move to a snapshot (creator, moderator or manager)",
          "x-problem-codes": [
            ...WRITE_PROBLEMS,
            "SNAPSHOT_NOT_FOUND",
            "ANALYSIS_FILE_NOT_FOUND",
            "ANALYSIS_FILE_NOT_CONFIGURED",
            "INPUT_FILE_REQUIRED",
          ],
        },
      },
    )
    .delete(
      "/:sessionId",
      async (r) => {
        const keys = await service.deleteSession(...sessionWrite(ctx, r));
        await drainDeletionQueue(ctx.db, ctx.deps.storage, ctx.deps.logger, { keys });
        return noContent(r.set);
      },
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        response: NoContent,
        detail: {
          tags: TAGS,
          operationId: "session.delete",
          "x-problem-codes": ["SESSION_NOT_FOUND", "NOT_OWNER", "CHAT_IN_PROGRESS"],
          description:
            "Deletes a session with its snapshots, files and stored results (its creator, moderators or managers).",
          summary: "Delete a session and everything in it (creator, moderator or manager)",
        },
      },
    );
}
