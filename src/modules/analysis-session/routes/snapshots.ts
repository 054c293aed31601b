import { created, noContent } from "@/http/status";
import { NoContent, Page } from "@/lib/schema";
import { requireProjectRole } from "@/plugins/project-access";
import {
  Chat,
  ChatParams,
  DuplicateBody,
  PageOnly,
  SessionDetail,
  SessionParams,
  Snapshot,
  SnapshotParams,
  SnapshotSave,
} from "../model";
import * as snapshots from "../snapshots";
import { type RouteContext, routeGroup, sessionUrl, sessionWrite, TAGS, WRITE_PROBLEMS } from "./shared";

/* Snapshots, the chat of the current snapshot, and session copies. */
export function snapshotsRoutes(ctx: RouteContext) {
  return routeGroup(ctx, "analysis-session-snapshots")
    .post(
      "/:sessionId/duplicate",
      async (r) => {
        const copy = await snapshots.duplicateSession(...sessionWrite(ctx, r), r.body);
        return created(r.set, copy, sessionUrl(r.access.project.id, copy.id));
      },
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        body: DuplicateBody,
        response: { 201: SessionDetail },
        detail: {
          tags: TAGS,
          operationId: "session.duplicate",
          description:
            "Copies a session with its files and, optionally, all snapshots; the caller becomes its creator.",
          summary: "Copy a session with its files and snapshots (M+); the caller becomes creator",
          "x-problem-codes": ["SESSION_NOT_FOUND"],
        },
      },
    )
    .get(
      "/:sessionId/snapshot",
      ({ access, params, query }) =>
        snapshots.listSnapshots(ctx.db, access.project.id, params.sessionId, query),
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        query: PageOnly,
        response: Page(Snapshot),
        detail: {
          tags: TAGS,
          operationId: "session.snapshot.list",
          "x-problem-codes": ["SESSION_NOT_FOUND"],
          description: "Snapshots of the session in ascending order, without step results.",
          summary: "Snapshots in ascending order, without results (V+)",
        },
      },
    )
    .post(
      "/:sessionId/snapshot",
      async (r) => created(r.set, await snapshots.saveSnapshot(...sessionWrite(ctx, r), r.body)),
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        body: SnapshotSave,
        response: { 201: Snapshot },
        detail: {
          tags: TAGS,
          operationId: "session.snapshot.create",
          description: "Saves the current snapshot as a new one (trigger manual), which becomes current.",
          summary: "Save the current snapshot as a new one (trigger manual); it becomes current",
          "x-problem-codes": [...WRITE_PROBLEMS, "INPUT_FILE_REQUIRED", "SNAPSHOT_NOT_FOUND"],
        },
      },
    )
    .delete(
      "/:sessionId/snapshot/:snapshotId",
      async (r) =>
        noContent(r.set, await snapshots.deleteSnapshot(...sessionWrite(ctx, r), r.params.snapshotId)),
      {
        project: requireProjectRole("member"),
        params: SnapshotParams,
        response: NoContent,
        detail: {
          tags: TAGS,
          operationId: "session.snapshot.delete",
          "x-problem-codes": [...WRITE_PROBLEMS, "SNAPSHOT_NOT_FOUND", "SNAPSHOT_NOT_DELETABLE"],
          description: "Deletes a snapshot other than snapshot 0 and the current one.",
          summary: "Delete a snapshot other than 0 and the current one",
        },
      },
    )
    .get(
      "/:sessionId/messages",
      ({ access, params, query }) =>
        snapshots.listMessages(ctx.db, access.project.id, params.sessionId, query),
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        query: PageOnly,
        response: Page(Chat),
        detail: {
          tags: TAGS,
          operationId: "session.message.list",
          "x-problem-codes": ["SESSION_NOT_FOUND"],
          description: "Chat messages of the current snapshot in ascending order.",
          summary: "Chat of the current snapshot, ascending (V+)",
        },
      },
    )
    .delete(
      "/:sessionId/messages/:chatId",
      async (r) => noContent(r.set, await snapshots.deleteMessage(...sessionWrite(ctx, r), r.params.chatId)),
      {
        project: requireProjectRole("member"),
        params: ChatParams,
        response: NoContent,
        detail: {
          tags: TAGS,
          operationId: "session.message.delete",
          "x-problem-codes": [...WRITE_PROBLEMS, "CHAT_NOT_FOUND", "CHAT_NOT_DELETABLE"],
          description:
            "Deletes a chat message of the current snapshot; the recipe message cannot be deleted.",
          summary: "Delete a message of the current snapshot (not the recipe)",
        },
      },
    );
}
