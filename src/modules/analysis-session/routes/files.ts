import { created, noContent } from "@/http/status";
import { docSchema, NoContent, Page } from "@/lib/schema";
import { requireProjectRole } from "@/plugins/project-access";
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
import { fileWrite, type RouteContext, routeGroup, TAGS, WRITE_PROBLEMS } from "./shared";

/* Analysis files of a session: register, configure (parse a sheet), list, remove. */
export function filesRoutes(ctx: RouteContext) {
  return routeGroup(ctx, "analysis-session-files")
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
      async (r) =>
        created(r.set, await files.registerAnalysisFile(...fileWrite(ctx, r), r.body.projectFileId)),
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
      (r) => files.configureAnalysisFile(...fileWrite(ctx, r), r.params.analysisFileId, r.body),
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
      async (r) =>
        noContent(r.set, await files.removeAnalysisFile(...fileWrite(ctx, r), r.params.analysisFileId)),
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
