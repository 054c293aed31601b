import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { problem } from "@/lib/errors";
import { docSchema, NoContent, Page } from "@/lib/schema";
import { sharedEnginePool } from "@/modules/analysis/engine-pool";
import { ProjectParams } from "@/modules/project/model";
import { drainDeletionQueue } from "@/modules/storage-deletion/service";
import { projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import * as charts from "./charts";
import { EXPORT_RESPONSES, exportSession } from "./export";
import * as files from "./files";
import {
  AnalysisFileConfigured,
  AnalysisFileParams,
  AnalysisFileRegistered,
  AnalysisFileWithData,
  ChartQuery,
  ChartSpec,
  Chat,
  ChatParams,
  DuplicateBody,
  ExportQuery,
  FileConfigure,
  FileListQuery,
  FileRegister,
  PageOnly,
  SessionCreate,
  SessionDetail,
  SessionListQuery,
  SessionParams,
  SessionPatch,
  SessionPut,
  SessionResults,
  SessionSummary,
  Snapshot,
  SnapshotParams,
  SnapshotSave,
  StepBody,
  StepParams,
  StepPatch,
  StepWithResult,
} from "./model";
import * as service from "./service";
import * as snapshots from "./snapshots";
import * as steps from "./steps";

export function analysisSessionController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["analysis"];
  const sessionDeps = (auth: { actor: service.SessionDeps["actor"] }) => ({ db, actor: auth.actor });
  const parser = sharedEnginePool(deps.config);
  const fileDeps = (auth: { actor: service.SessionDeps["actor"] }) => ({
    db,
    storage: deps.storage,
    actor: auth.actor,
    parser,
  });

  return new Elysia({ name: "analysis-session", prefix: "/project/:projectId/analysis/session" })
    .use(projectAccessPlugin(deps))
    .get("", ({ access, query }) => service.listSessions(db, access.project.id, query), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      query: SessionListQuery,
      response: Page(SessionSummary),
      detail: {
        tags,
        operationId: "session.list",
        description: "Analysis sessions of the project, filtered by status, issue, creator or name.",
        summary: "Analysis sessions of the project (V+)",
      },
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
        detail: {
          tags,
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
      ({ access, params }) => service.getSessionDetail(db, access.project.id, params.sessionId),
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        response: SessionDetail,
        detail: {
          tags,
          operationId: "session.get",
          "x-problem-codes": ["SESSION_NOT_FOUND"],
          description: "A session with all snapshots, chat messages, steps and registered files.",
          summary: "Session with snapshots, chats, steps and files (V+)",
        },
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
        detail: {
          tags,
          operationId: "session.update",
          "x-problem-codes": ["SESSION_NOT_FOUND", "NOT_OWNER", "SESSION_ARCHIVED"],
          description: "Changes name, status or prompts of a session (its creator, moderators or managers).",
          summary: "Rename, change status or prompts (creator, moderator or manager)",
        },
      },
    )
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
            fileDeps(auth),
            caller,
            access,
            params.sessionId,
            body.inputFileId,
          );
        } else if (body.currentSnapshot !== undefined) {
          detail = await files.restoreSnapshot(
            fileDeps(auth),
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
          tags,
          operationId: "session.select",
          description:
            "Selects the input file and/or moves the session to another snapshot (its creator, moderators or managers).",
          summary: "Select the input file and/or move to a snapshot (creator, moderator or manager)",
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "NOT_OWNER",
            "SESSION_ARCHIVED",
            "CHAT_IN_PROGRESS",
            "SNAPSHOT_NOT_FOUND",
            "ANALYSIS_FILE_NOT_FOUND",
            "ANALYSIS_FILE_NOT_CONFIGURED",
            "INPUT_FILE_REQUIRED",
          ],
        },
      },
    )
    .get(
      "/:sessionId/file",
      ({ access, params, query }) => files.listAnalysisFiles(db, access.project.id, params.sessionId, query),
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        query: FileListQuery,
        response: Page(AnalysisFileWithData),
        detail: {
          tags,
          operationId: "session.file.list",
          "x-problem-codes": ["SESSION_NOT_FOUND"],
          description: "Files registered to the session; includeData adds their parsed rows.",
          summary: "Files registered to the session (V+)",
        },
      },
    )
    .post(
      "/:sessionId/file",
      async ({ caller, auth, access, params, body, set }) => {
        const file = await files.registerAnalysisFile(
          fileDeps(auth),
          caller,
          access,
          params.sessionId,
          body.projectFileId,
        );
        set.status = 201;
        return file;
      },
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        body: FileRegister,
        response: { 201: AnalysisFileRegistered },
        detail: {
          tags,
          operationId: "session.file.create",
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "NOT_OWNER",
            "SESSION_ARCHIVED",
            "CHAT_IN_PROGRESS",
            "FILE_NOT_FOUND",
            "FILE_NOT_ANALYSABLE",
            "ANALYSIS_FILE_DUPLICATE",
          ],
          description:
            "Registers a project file to the session and lists its parseable sheets and detected axes.",
          summary: "Register a project file; lists its parseable sheets and axes",
        },
      },
    )
    .patch(
      "/:sessionId/file/:analysisFileId",
      ({ caller, auth, access, params, body }) =>
        files.configureAnalysisFile(
          fileDeps(auth),
          caller,
          access,
          params.sessionId,
          params.analysisFileId,
          body,
        ),
      {
        project: requireProjectRole("member"),
        params: AnalysisFileParams,
        body: FileConfigure,
        detail: {
          tags,
          operationId: "session.file.configure",
          description:
            "Chooses the sheet and the axis columns of a registered file and parses it; answers with the first 100 records.",
          summary: "Choose sheet and axes; parses the sheet (first 100 rows returned)",
          responses: {
            200: {
              description:
                "AnalysisFile with rowCount, dataHash, duplicateCombinations, warnings and the first records in data",
              content: { "application/json": { schema: docSchema(AnalysisFileConfigured) } },
            },
          },
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "NOT_OWNER",
            "SESSION_ARCHIVED",
            "CHAT_IN_PROGRESS",
            "ANALYSIS_FILE_NOT_FOUND",
            "FILE_CONTENT_MISSING",
            "FILE_NOT_ANALYSABLE",
            "NO_PARSEABLE_SHEET",
            "UNKNOWN_SHEET",
            "UNKNOWN_AXIS",
            "SHEET_PARSE_ERROR",
            "ANALYSIS_LIMIT_EXCEEDED",
          ],
        },
      },
    )
    .delete(
      "/:sessionId/file/:analysisFileId",
      async ({ caller, auth, access, params, set }) => {
        await files.removeAnalysisFile(
          fileDeps(auth),
          caller,
          access,
          params.sessionId,
          params.analysisFileId,
        );
        set.status = 204;
      },
      {
        project: requireProjectRole("member"),
        params: AnalysisFileParams,
        response: NoContent,
        detail: {
          tags,
          operationId: "session.file.delete",
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "NOT_OWNER",
            "SESSION_ARCHIVED",
            "CHAT_IN_PROGRESS",
            "ANALYSIS_FILE_NOT_FOUND",
            "ANALYSIS_FILE_IN_USE",
          ],
          description: "Removes a registered file; the session's input file cannot be removed.",
          summary: "Remove a registered file (not the input)",
        },
      },
    )
    .post(
      "/:sessionId/step",
      async ({ caller, auth, access, params, body, set }) => {
        const step = await steps.createStep(sessionDeps(auth), caller, access, params.sessionId, body);
        set.status = 201;
        return step;
      },
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        body: StepBody,
        response: { 201: StepWithResult },
        detail: {
          tags,
          operationId: "session.step.create",
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "NOT_OWNER",
            "SESSION_ARCHIVED",
            "CHAT_IN_PROGRESS",
            "INPUT_FILE_REQUIRED",
            "STEP_CONFIG_INVALID",
            "STEP_REFERENCE_INVALID",
            "ANALYSIS_LIMIT_EXCEEDED",
          ],
          description:
            "Appends a filter, aggregate, transform or summary step to the current snapshot and runs it.",
          summary: "Append a step to the current snapshot; answers with its result",
        },
      },
    )
    .put(
      "/:sessionId/step/:stepId",
      ({ caller, auth, access, params, body }) =>
        steps.updateStep(sessionDeps(auth), caller, access, params.sessionId, params.stepId, body),
      {
        project: requireProjectRole("member"),
        params: StepParams,
        body: StepPatch,
        response: StepWithResult,
        detail: {
          tags,
          operationId: "session.step.update",
          description: "Edits a step in place (config: null resets it); the steps after it are recomputed.",
          summary: "Edit a step in place (config: null resets it); later steps are recomputed",
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "NOT_OWNER",
            "SESSION_ARCHIVED",
            "CHAT_IN_PROGRESS",
            "INPUT_FILE_REQUIRED",
            "STEP_CONFIG_INVALID",
            "STEP_REFERENCE_INVALID",
            "ANALYSIS_LIMIT_EXCEEDED",
            "STEP_NOT_FOUND",
          ],
        },
      },
    )
    .delete(
      "/:sessionId/step/:stepId",
      async ({ caller, auth, access, params, set }) => {
        await steps.deleteStep(sessionDeps(auth), caller, access, params.sessionId, params.stepId);
        set.status = 204;
      },
      {
        project: requireProjectRole("member"),
        params: StepParams,
        response: NoContent,
        detail: {
          tags,
          operationId: "session.step.delete",
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "NOT_OWNER",
            "SESSION_ARCHIVED",
            "CHAT_IN_PROGRESS",
            "INPUT_FILE_REQUIRED",
            "STEP_NOT_FOUND",
            "STEP_NOT_DELETABLE",
          ],
          description: "Deletes a step of the current snapshot that no other step uses as input.",
          summary: "Delete a step that no other step depends on",
        },
      },
    )
    .post(
      "/:sessionId/duplicate",
      async ({ caller, auth, access, params, body, set }) => {
        const copy = await snapshots.duplicateSession(
          sessionDeps(auth),
          caller,
          access,
          params.sessionId,
          body,
        );
        set.status = 201;
        set.headers.Location = `/api/v1/project/${access.project.id}/analysis/session/${copy.id}`;
        return copy;
      },
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        body: DuplicateBody,
        response: { 201: SessionDetail },
        detail: {
          tags,
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
        snapshots.listSnapshots(db, access.project.id, params.sessionId, query.skip ?? 0, query.limit ?? 50),
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        query: PageOnly,
        response: Page(Snapshot),
        detail: {
          tags,
          operationId: "session.snapshot.list",
          "x-problem-codes": ["SESSION_NOT_FOUND"],
          description: "Snapshots of the session in ascending order, without step results.",
          summary: "Snapshots in ascending order, without results (V+)",
        },
      },
    )
    .post(
      "/:sessionId/snapshot",
      async ({ caller, auth, access, params, body, set }) => {
        const snap = await snapshots.saveSnapshot(sessionDeps(auth), caller, access, params.sessionId, body);
        set.status = 201;
        return snap;
      },
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        body: SnapshotSave,
        response: { 201: Snapshot },
        detail: {
          tags,
          operationId: "session.snapshot.create",
          description: "Saves the current snapshot as a new one (trigger manual), which becomes current.",
          summary: "Save the current snapshot as a new one (trigger manual); it becomes current",
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "NOT_OWNER",
            "SESSION_ARCHIVED",
            "CHAT_IN_PROGRESS",
            "INPUT_FILE_REQUIRED",
          ],
        },
      },
    )
    .delete(
      "/:sessionId/snapshot/:snapshotId",
      async ({ caller, auth, access, params, set }) => {
        await snapshots.deleteSnapshot(
          sessionDeps(auth),
          caller,
          access,
          params.sessionId,
          params.snapshotId,
        );
        set.status = 204;
      },
      {
        project: requireProjectRole("member"),
        params: SnapshotParams,
        response: NoContent,
        detail: {
          tags,
          operationId: "session.snapshot.delete",
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "NOT_OWNER",
            "SESSION_ARCHIVED",
            "CHAT_IN_PROGRESS",
            "SNAPSHOT_NOT_FOUND",
            "SNAPSHOT_NOT_DELETABLE",
          ],
          description: "Deletes a snapshot other than snapshot 0 and the current one.",
          summary: "Delete a snapshot other than 0 and the current one",
        },
      },
    )
    .get(
      "/:sessionId/messages",
      ({ access, params, query }) =>
        snapshots.listMessages(db, access.project.id, params.sessionId, query.skip ?? 0, query.limit ?? 50),
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        query: PageOnly,
        response: Page(Chat),
        detail: {
          tags,
          operationId: "session.message.list",
          "x-problem-codes": ["SESSION_NOT_FOUND"],
          description: "Chat messages of the current snapshot in ascending order.",
          summary: "Chat of the current snapshot, ascending (V+)",
        },
      },
    )
    .delete(
      "/:sessionId/messages/:chatId",
      async ({ caller, auth, access, params, set }) => {
        await snapshots.deleteMessage(sessionDeps(auth), caller, access, params.sessionId, params.chatId);
        set.status = 204;
      },
      {
        project: requireProjectRole("member"),
        params: ChatParams,
        response: NoContent,
        detail: {
          tags,
          operationId: "session.message.delete",
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "NOT_OWNER",
            "SESSION_ARCHIVED",
            "CHAT_IN_PROGRESS",
            "CHAT_NOT_FOUND",
            "CHAT_NOT_DELETABLE",
          ],
          description:
            "Deletes a chat message of the current snapshot; the recipe message cannot be deleted.",
          summary: "Delete a message of the current snapshot (not the recipe)",
        },
      },
    )
    .get(
      "/:sessionId/result",
      ({ access, params }) => snapshots.sessionResults(db, access.project.id, params.sessionId),
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        response: SessionResults,
        detail: {
          tags,
          operationId: "session.result.get",
          "x-problem-codes": ["SESSION_NOT_FOUND", "INPUT_FILE_REQUIRED"],
          description: "Formulas, charts and tables of every summary step of the current snapshot.",
          summary: "Summary results of the current snapshot (V+)",
        },
      },
    )
    .get(
      "/:sessionId/step/:stepId/chart",
      async ({ access, params, query, request }) => {
        const r = await charts.chartImage(
          { db, storage: deps.storage, renderer: deps.chartRenderer },
          access.project.id,
          params.sessionId,
          params.stepId,
          query,
          request.headers.get("if-none-match"),
        );
        return new Response(r.body, { status: r.status, headers: r.headers });
      },
      {
        project: requireProjectRole("viewer"),
        params: StepParams,
        query: ChartQuery,
        detail: {
          tags,
          operationId: "session.step.chart.get",
          description:
            "The chart of a summary step as PNG, SVG, Plotly figure or Vega-Lite spec; ETag and If-None-Match are supported.",
          summary:
            "Chart of a summary step of any snapshot: PNG (stored), SVG, Plotly or Vega-Lite JSON (V+)",
          responses: {
            200: {
              description: "The chart; ETag and X-Graph-Id identify it",
              content: {
                "image/png": { schema: { type: "string", format: "binary" } },
                "image/svg+xml": { schema: { type: "string" } },
                "application/json": { schema: docSchema(ChartSpec) },
              },
            },
            304: { description: "Not modified (If-None-Match)" },
          },
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "INPUT_FILE_REQUIRED",
            "STEP_NOT_FOUND",
            "CHART_NOT_AVAILABLE",
            "STEP_CONFIG_INVALID",
            "CHART_RENDERER_UNAVAILABLE",
          ],
        },
      },
    )
    .get(
      "/:sessionId/export",
      async ({ auth, access, params, query }) => {
        const out = await exportSession(
          { db, storage: deps.storage, actor: auth.actor },
          access.project.id,
          params.sessionId,
          query,
          deps.chartRenderer?.available
            ? (model, size) => deps.chartRenderer!.renderPng(model, size)
            : undefined,
        );
        return new Response(out.body, { status: 200, headers: out.headers });
      },
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        query: ExportQuery,
        detail: {
          tags,
          operationId: "session.export",
          description:
            "Downloads the session as an xlsx workbook, one step's rows as csv, or the session detail with results as json.",
          summary: "Download the session as xlsx, one step's rows as csv, or the detail as json (V+)",
          responses: EXPORT_RESPONSES,
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "INPUT_FILE_REQUIRED",
            "STEP_NOT_FOUND",
            "STEP_CONFIG_INVALID",
          ],
        },
      },
    )
    .delete(
      "/:sessionId",
      async ({ caller, auth, access, params, set }) => {
        const keys = await service.deleteSession(sessionDeps(auth), caller, access, params.sessionId);
        await drainDeletionQueue(db, deps.storage, deps.logger, { keys });
        set.status = 204;
      },
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        response: NoContent,
        detail: {
          tags,
          operationId: "session.delete",
          "x-problem-codes": ["SESSION_NOT_FOUND", "NOT_OWNER", "CHAT_IN_PROGRESS"],
          description:
            "Deletes a session with its snapshots, files and stored results (its creator, moderators or managers).",
          summary: "Delete a session and everything in it (creator, moderator or manager)",
        },
      },
    );
}
