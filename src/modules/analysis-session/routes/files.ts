import { Elysia } from "elysia";
import { docSchema, NoContent, Page } from "@/lib/schema";
import { projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import * as files from "../files";
import {
  AnalysisFileConfigured,
  AnalysisFileParams,
  AnalysisFileRegistered,
  AnalysisFileWithData,
  FileConfigure,
  FileListQuery,
  FileRegister,
  SessionParams,
} from "../model";
import { ROUTE_PREFIX, type RouteContext, TAGS, WRITE_PROBLEMS } from "./shared";

/* Analysis files of a session: register, configure (parse a sheet), list, remove. */
export function filesRoutes(ctx: RouteContext) {
  return new Elysia({ name: "analysis-session-files", prefix: ROUTE_PREFIX })
    .use(projectAccessPlugin(ctx.deps))
    .get(
      "/:sessionId/file",
      ({ access, params, query }) =>
        files.listAnalysisFiles(ctx.db, access.project.id, params.sessionId, query),
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        query: FileListQuery,
        response: Page(AnalysisFileWithData),
        detail: {
          tags: TAGS,
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
          ctx.fileDeps(auth),
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
          tags: TAGS,
          operationId: "session.file.create",
          "x-problem-codes": [
            ...WRITE_PROBLEMS,
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
          ctx.fileDeps(auth),
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
          tags: TAGS,
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
            ...WRITE_PROBLEMS,
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
          ctx.fileDeps(auth),
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
          tags: TAGS,
          operationId: "session.file.delete",
          "x-problem-codes": [...WRITE_PROBLEMS, "ANALYSIS_FILE_NOT_FOUND", "ANALYSIS_FILE_IN_USE"],
          description: "Removes a registered file; the session's input file cannot be removed.",
          summary: "Remove a registered file (not the input)",
        },
      },
    );
}
