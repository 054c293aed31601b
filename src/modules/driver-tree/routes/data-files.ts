import { created, noContent } from "@/http/status";
import { NoContent, Page } from "@/lib/schema";
import { ProjectParams } from "@/modules/project/model";
import { drainDeletionQueue } from "@/modules/storage-deletion/service";
import { bodyBeforeDeadline } from "@/plugins/body-limit";
import { requireProjectRole } from "@/plugins/project-access";
import {
  ColumnPatch,
  DtFile,
  DtFileParams,
  DtPageQuery,
  ForceQuery,
  SelectedSheet,
  SheetColumns,
  SheetDetail,
  SheetParams,
} from "../model";
import * as sheets from "../sheets";
import { type RouteContext, routeGroup, TAGS } from "./shared";

const UPLOAD_BODY: any = {
  content: {
    "multipart/form-data": {
      schema: {
        title: "DtFileUpload",
        type: "object",
        required: ["file"],
        properties: {
          file: { type: "string", format: "binary" },
          comment: { type: "string", maxLength: 500 },
        },
      },
    },
  },
};

const SHEET = ["FILE_NOT_FOUND", "SHEET_NOT_FOUND"] as const;

/* Driver-tree files (project spreadsheets), their sheets and column roles (api.md §2.8). */
export function dataFilesRoutes(ctx: RouteContext) {
  const sheetDeps = (auth: { actor: sheets.SheetDeps["actor"] }): sheets.SheetDeps => ({
    ...ctx.treeDeps(auth),
    storage: ctx.deps.storage,
    parser: ctx.deps.enginePool,
    maxBytes: ctx.deps.config.maxFileSizeBytes,
    maxMb: ctx.deps.config.maxFileSizeMb,
    previews: ctx.previews,
  });
  return routeGroup(ctx, "driver-tree-data-files")
    .get(
      "/file",
      ({ auth, access, query }) => sheets.listDtFiles(sheetDeps(auth), access.project.id, query),
      {
        project: requireProjectRole("viewer"),
        params: ProjectParams,
        query: DtPageQuery,
        response: Page(DtFile),
        detail: {
          tags: TAGS,
          operationId: "driverTree.file.list",
          summary: "Spreadsheets of the project with their sheets (V+)",
          description:
            "The latest version of every xlsx/xlsm file of the project; sheets are catalogued on first listing (idempotent). Legacy .xls files cannot be read and are not listed.",
        },
      },
    )
    .post(
      "/file",
      async ({ caller, auth, access, request, set }) => {
        const file = await sheets.uploadDtFile(sheetDeps(auth), caller, access.project.id, {
          contentType: request.headers.get("content-type"),
          body: () => bodyBeforeDeadline(request),
        });
        return created(set, file, `/api/v1/project/${access.project.id}/file/${file.fileId}`);
      },
      {
        project: requireProjectRole("member"),
        params: ProjectParams,
        response: { 201: DtFile },
        detail: {
          tags: TAGS,
          operationId: "driverTree.file.create",
          summary: "Upload a spreadsheet for driver trees (multipart `file`, optional `comment`; M+)",
          description:
            "A normal project file (same pipeline, limits and versions as /file) of kind xlsx or xlsm, with one row per sheet. A legacy .xls workbook is 415 UNSUPPORTED_FILE_TYPE (`allowed`: the accepted kinds): save it as .xlsx first.",
          requestBody: UPLOAD_BODY,
          "x-problem-codes": ["MALFORMED_REQUEST", "FILE_TOO_LARGE", "UNSUPPORTED_FILE_TYPE"],
        },
      },
    )
    .delete(
      "/file/:fileId",
      async ({ caller, auth, access, params, query, set }) => {
        const keys = await sheets.deleteDtFile(
          sheetDeps(auth),
          caller,
          access,
          params.fileId,
          query.force ?? false,
        );
        await drainDeletionQueue(ctx.db, ctx.deps.storage, ctx.deps.logger, { keys });
        return noContent(set);
      },
      {
        project: requireProjectRole("member"),
        params: DtFileParams,
        query: ForceQuery,
        response: NoContent,
        detail: {
          tags: TAGS,
          operationId: "driverTree.file.delete",
          summary: "Delete a driver-tree file's whole chain (uploader, moderator or manager)",
          description:
            "Same effect as DELETE …/file/{fileId}: every version goes with its sheets; while nodes are bound (or sessions read it) force=true is needed, and bindings are cleared.",
          "x-problem-codes": ["FILE_NOT_FOUND", "NOT_OWNER", "FILE_IN_USE"],
        },
      },
    )
    .get("/sheet", ({ access, query }) => sheets.listSelectedSheets(ctx.db, access.project.id, query), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      query: DtPageQuery,
      response: Page(SelectedSheet),
      detail: {
        tags: TAGS,
        operationId: "driverTree.sheet.list",
        summary: "Selected sheets with their columns (V+)",
        description: "Every selected sheet of the project, in selection order, with its columns and roles.",
      },
    })
    .get(
      "/file/:fileId/sheet/:sheetId",
      ({ auth, access, params }) =>
        sheets.sheetDetail(sheetDeps(auth), access.project.id, params.fileId, params.sheetId),
      {
        project: requireProjectRole("viewer"),
        params: SheetParams,
        response: SheetDetail,
        detail: {
          tags: TAGS,
          operationId: "driverTree.sheet.get",
          summary: "A sheet parsed: columns, data types, row count and up to 10 sample rows (V+)",
          description:
            "Parsed with the hierarchical layout of analysis.md §1.4; columnId is null until the sheet is selected.",
          "x-problem-codes": [
            ...SHEET,
            "FILE_CONTENT_MISSING",
            "SHEET_PARSE_ERROR",
            "ANALYSIS_LIMIT_EXCEEDED",
          ],
        },
      },
    )
    .post(
      "/file/:fileId/sheet/:sheetId",
      async (r) =>
        created(
          r.set,
          await sheets.selectSheet(sheetDeps(r.auth), r.caller, r.access, r.params.fileId, r.params.sheetId),
        ),
      {
        project: requireProjectRole("member"),
        params: SheetParams,
        response: { 201: SheetColumns },
        detail: {
          tags: TAGS,
          operationId: "driverTree.sheet.select",
          summary: "Select a sheet: one column per axis and 科目, every role unused (M+)",
          description:
            "Parses the sheet (analysis.md §1.4) into one data frame per column with up to 5 items each.",
          "x-problem-codes": [
            ...SHEET,
            "FILE_CONTENT_MISSING",
            "SHEET_ALREADY_SELECTED",
            "SHEET_PARSE_ERROR",
            "ANALYSIS_LIMIT_EXCEEDED",
          ],
        },
      },
    )
    .post(
      "/file/:fileId/sheet/:sheetId/refresh",
      (r) => sheets.refreshSheet(sheetDeps(r.auth), r.caller, r.access, r.params.fileId, r.params.sheetId),
      {
        project: requireProjectRole("member"),
        params: SheetParams,
        response: SheetColumns,
        detail: {
          tags: TAGS,
          operationId: "driverTree.sheet.refresh",
          summary: "Re-read a selected sheet from the file's latest version (selector, moderator or manager)",
          description:
            "Column ids and roles are kept for columns whose name still exists; bindings to items that vanished are cleared, and every binding to the sheet when its time column vanished (nothing left to read).",
          "x-problem-codes": [
            ...SHEET,
            "NOT_OWNER",
            "FILE_CONTENT_MISSING",
            "SHEET_NOT_SELECTED",
            "SHEET_PARSE_ERROR",
            "ANALYSIS_LIMIT_EXCEEDED",
          ],
        },
      },
    )
    .patch(
      "/file/:fileId/sheet/:sheetId/column",
      (r) =>
        sheets.patchColumns(
          sheetDeps(r.auth),
          r.caller,
          r.access,
          r.params.fileId,
          r.params.sheetId,
          r.body,
          r.query.force ?? false,
        ),
      {
        project: requireProjectRole("member"),
        params: SheetParams,
        query: ForceQuery,
        body: ColumnPatch,
        response: SheetColumns,
        detail: {
          tags: TAGS,
          operationId: "driverTree.sheet.columns",
          summary: "Set column roles (selector, moderator or manager)",
          description:
            "Roles time | axis | value | unused (also 推移 | 軸 | 値 | 利用しない): at most one time column, value only on 科目 (422 VALIDATION_FAILED). Bound nodes need the sheet's time column, 科目 as the value column and an axis role on every axisFilter column: a change that would take one of these from a bound node is 409 FILE_IN_USE, naming the nodes (`nodes`: nodeId, treeId, label, reason; `usage`), and nothing changes; with force=true the roles change and those nodes are unbound in the same transaction (they fall back to their manual value; the trees get tree_updated).",
          "x-problem-codes": [
            ...SHEET,
            "NOT_OWNER",
            "COLUMN_NOT_FOUND",
            "SHEET_NOT_SELECTED",
            "FILE_IN_USE",
            "VALIDATION_FAILED",
          ],
        },
      },
    )
    .delete(
      "/file/:fileId/sheet/:sheetId",
      async (r) => {
        await sheets.unselectSheet(
          sheetDeps(r.auth),
          r.caller,
          r.access,
          r.params.fileId,
          r.params.sheetId,
          r.query.force ?? false,
        );
        return noContent(r.set);
      },
      {
        project: requireProjectRole("member"),
        params: SheetParams,
        query: ForceQuery,
        response: NoContent,
        detail: {
          tags: TAGS,
          operationId: "driverTree.sheet.unselect",
          summary: "Unselect a sheet (selector, moderator or manager)",
          description:
            "Its data frames are removed; while nodes are bound force=true is needed, which clears those bindings.",
          "x-problem-codes": [...SHEET, "NOT_OWNER", "SHEET_NOT_SELECTED", "FILE_IN_USE"],
        },
      },
    );
}
