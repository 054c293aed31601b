import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { rangedResponse } from "@/http/ranged-response";
import { NoContent, Page } from "@/lib/schema";
import { ProjectParams } from "@/modules/project/model";
import { drainDeletionQueue } from "@/modules/storage-deletion/service";
import { bodyBeforeDeadline } from "@/plugins/body-limit";
import { projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import {
  CompareQuery,
  DeleteQuery,
  FileCompare,
  FileListQuery,
  FileParams,
  FileUsage,
  ProjectFile,
  RestoreBody,
  VersionsQuery,
} from "./model";
import * as service from "./service";

/** The service streams the body; the edge bounds it by the request deadline. */
const uploadOf = (request: Request): service.Upload => ({
  contentType: request.headers.get("content-type"),
  body: () => bodyBeforeDeadline(request),
});

const PREFIX = "/project/:projectId/file";
const UPLOAD_BODY: any = {
  content: {
    "multipart/form-data": {
      schema: {
        title: "FileUpload",
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

export function fileController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["file"];
  const fileDeps = (auth: { actor: service.FileDeps["actor"] }): service.FileDeps => ({
    db,
    storage: deps.storage,
    actor: auth.actor,
    maxBytes: deps.config.maxFileSizeBytes,
    maxMb: deps.config.maxFileSizeMb,
  });

  return new Elysia({ name: "file", prefix: PREFIX })
    .use(projectAccessPlugin(deps))
    .get("", ({ access, query }) => service.listFiles(db, access.project.id, query), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      query: FileListQuery,
      response: Page(ProjectFile),
      detail: {
        tags,
        operationId: "file.list",
        description:
          "The latest version of every file chain in the project, filtered by kind, MIME type, name or uploader.",
        summary: "Latest version of each file (V+)",
      },
    })
    .post(
      "",
      async ({ caller, auth, access, request, set }) => {
        const file = await service.uploadFile(fileDeps(auth), caller, access.project.id, uploadOf(request));
        set.status = 201;
        set.headers.Location = `/api/v1/project/${access.project.id}/file/${file.id}`;
        return file;
      },
      {
        project: requireProjectRole("member"),
        params: ProjectParams,
        response: { 201: ProjectFile },
        detail: {
          tags,
          operationId: "file.create",
          description:
            "Uploads a new file as multipart/form-data (`file`, optional `comment`); the content is checked against its extension. Members or higher.",
          summary: "Upload a file (multipart `file`, optional `comment`; M+)",
          requestBody: UPLOAD_BODY,
          "x-problem-codes": ["MALFORMED_REQUEST", "FILE_TOO_LARGE", "UNSUPPORTED_FILE_TYPE"],
        },
      },
    )
    .get("/:fileId", ({ access, params }) => service.getFile(db, access.project.id, params.fileId), {
      project: requireProjectRole("viewer"),
      params: FileParams,
      response: ProjectFile,
      detail: {
        tags,
        operationId: "file.get",
        "x-problem-codes": ["FILE_NOT_FOUND"],
        description: "Metadata of one file version; needs the viewer role or higher.",
        summary: "One file version (V+)",
      },
    })
    .get(
      "/:fileId/download",
      async ({ auth, access, params, request, set }) => {
        const file = await service.download(fileDeps(auth), access.project.id, params.fileId);
        return rangedResponse(request, set, {
          etag: `"${file.checksumSha256}"`,
          contentType: file.mimeType,
          filename: file.filename,
          size: file.size,
          open: file.open,
        });
      },
      {
        project: requireProjectRole("viewer"),
        params: FileParams,
        detail: {
          tags,
          operationId: "file.version.download",
          description:
            "Streams the bytes of one file version with ETag, Range (206) and If-None-Match (304) support.",
          summary: "Download (streamed; ETag, Range, If-None-Match; V+)",
          responses: {
            200: {
              description: "The file, with Content-Disposition (RFC 6266), Content-Length and ETag",
              content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
            },
            206: {
              description: "The requested byte range",
              content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
            },
            304: { description: "Not modified (If-None-Match)" },
          },
          "x-problem-codes": ["FILE_NOT_FOUND", "FILE_CONTENT_MISSING", "RANGE_NOT_SATISFIABLE"],
        },
      },
    )
    .delete(
      "/:fileId",
      async ({ caller, auth, access, params, query, set }) => {
        const keys = await service.deleteChain(
          fileDeps(auth),
          caller,
          access,
          params.fileId,
          query.force ?? false,
        );
        await drainDeletionQueue(db, deps.storage, deps.logger, { keys });
        set.status = 204;
      },
      {
        project: requireProjectRole("member"),
        params: FileParams,
        query: DeleteQuery,
        response: NoContent,
        detail: {
          tags,
          operationId: "file.delete",
          "x-problem-codes": ["FILE_NOT_FOUND", "NOT_OWNER", "FILE_IN_USE"],
          description:
            "Deletes every version of the file's chain. While sessions or driver trees use it, force=true is needed.",
          summary: "Delete the whole version chain (uploader, moderator or manager)",
        },
      },
    )
    .get("/:fileId/usage", ({ access, params }) => service.fileUsage(db, access.project.id, params.fileId), {
      project: requireProjectRole("viewer"),
      params: FileParams,
      response: FileUsage,
      detail: {
        tags,
        operationId: "file.usage.get",
        "x-problem-codes": ["FILE_NOT_FOUND"],
        description: "Analysis sessions and driver-tree sheets that use any version of the file's chain.",
        summary: "Sessions and driver trees that use the file chain (V+)",
      },
    })
    .get(
      "/:fileId/versions",
      ({ access, params, query }) =>
        service.listVersions(db, access.project.id, params.fileId, query.skip ?? 0, query.limit ?? 50),
      {
        project: requireProjectRole("viewer"),
        params: FileParams,
        query: VersionsQuery,
        response: Page(ProjectFile),
        detail: {
          tags,
          operationId: "file.version.list",
          "x-problem-codes": ["FILE_NOT_FOUND"],
          description: "All versions of the file's chain in ascending order.",
          summary: "Every version of the chain, ascending (V+)",
        },
      },
    )
    .post(
      "/:fileId/version",
      async ({ caller, auth, access, params, request, set }) => {
        const file = await service.uploadVersion(
          fileDeps(auth),
          caller,
          access.project.id,
          params.fileId,
          uploadOf(request),
        );
        set.status = 201;
        set.headers.Location = `/api/v1/project/${access.project.id}/file/${file.id}`;
        return file;
      },
      {
        project: requireProjectRole("member"),
        params: FileParams,
        response: { 201: ProjectFile },
        detail: {
          tags,
          operationId: "file.version.create",
          "x-problem-codes": [
            "FILE_NOT_FOUND",
            "MALFORMED_REQUEST",
            "FILE_TOO_LARGE",
            "UNSUPPORTED_FILE_TYPE",
          ],
          description:
            "Uploads a new version of the file's chain as multipart/form-data; it becomes the latest version. Members or higher.",
          summary: "Upload a new version of the chain (M+)",
          requestBody: UPLOAD_BODY,
        },
      },
    )
    .post(
      "/:fileId/restore",
      async ({ caller, auth, access, params, body, set }) => {
        const file = await service.restoreVersion(
          fileDeps(auth),
          caller,
          access.project.id,
          params.fileId,
          body.versionId,
          body.comment,
        );
        set.status = 201;
        set.headers.Location = `/api/v1/project/${access.project.id}/file/${file.id}`;
        return file;
      },
      {
        project: requireProjectRole("member"),
        params: FileParams,
        body: RestoreBody,
        response: { 201: ProjectFile },
        detail: {
          tags,
          operationId: "file.version.restore",
          "x-problem-codes": [
            "FILE_NOT_FOUND",
            "FILE_CONTENT_MISSING",
            "VERSION_NOT_IN_CHAIN",
            "ANALYSIS_LIMIT_EXCEEDED",
          ],
          description:
            "Copies an older version of the chain as a new latest version; nothing is overwritten.",
          summary: "Restore an old version as the new latest version (M+)",
        },
      },
    )
    .get(
      "/:fileId/compare",
      ({ auth, access, params, query }) =>
        service.compareVersions(fileDeps(auth), access.project.id, params.fileId, query.base, query.target),
      {
        project: requireProjectRole("viewer"),
        params: FileParams,
        query: CompareQuery,
        response: FileCompare,
        detail: {
          tags,
          operationId: "file.version.compare",
          "x-problem-codes": [
            "FILE_NOT_FOUND",
            "FILE_CONTENT_MISSING",
            "VERSION_NOT_IN_CHAIN",
            "ANALYSIS_LIMIT_EXCEEDED",
          ],
          description:
            "Compares two versions of one chain: size, checksum and, for spreadsheets, sheets and row counts.",
          summary: "Compare two versions: size, checksum, sheets and row counts (V+)",
        },
      },
    );
}
