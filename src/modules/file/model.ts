import { t } from "elysia";
import { FILE_KINDS } from "@/lib/file-types";
import { Closed, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";

export const FileKind = t.UnionEnum(FILE_KINDS);

export const ProjectFile = t.Object({
  id: Uuid,
  projectId: Uuid,
  chainId: Uuid,
  version: t.Integer(),
  isLatest: t.Boolean(),
  parentFileId: t.Union([Uuid, t.Null()]),
  restoredFromId: t.Union([Uuid, t.Null()]),
  filename: t.String(),
  originalFilename: t.String(),
  kind: FileKind,
  mimeType: t.String(),
  sizeBytes: t.Integer(),
  checksumSha256: t.String(),
  comment: t.Union([t.String(), t.Null()]),
  uploadedBy: t.Union([UserRef, t.Null()]),
  uploadedAt: Ts,
  versionCount: t.Integer(),
});

export const VersionInfo = t.Object({
  id: Uuid,
  version: t.Integer(),
  sizeBytes: t.Integer(),
  checksumSha256: t.String(),
  uploadedAt: Ts,
  uploadedBy: t.Union([UserRef, t.Null()]),
});

export const FileUsage = t.Object({
  fileId: Uuid,
  chainId: Uuid,
  analysisSessionCount: t.Integer(),
  driverTreeSheetCount: t.Integer(),
  boundNodeCount: t.Integer(),
  usages: t.Array(
    t.Object({
      usageType: t.Union([t.Literal("analysis_session"), t.Literal("driver_tree_sheet")]),
      targetId: Uuid,
      targetName: t.String(),
      sheetName: t.Union([t.String(), t.Null()]),
      usedAt: Ts,
    }),
  ),
});

export const FileCompare = t.Object({
  base: VersionInfo,
  target: VersionInfo,
  identical: t.Boolean(),
  sizeDeltaBytes: t.Integer(),
  sheets: t.Union([
    t.Object({ added: t.Array(t.String()), removed: t.Array(t.String()), common: t.Array(t.String()) }),
    t.Null(),
  ]),
  rowCounts: t.Union([
    t.Object({ base: t.Record(t.String(), t.Integer()), target: t.Record(t.String(), t.Integer()) }),
    t.Null(),
  ]),
});

export const FileListQuery = Closed({
  ...PageQuery,
  kind: t.Optional(t.String({ pattern: "^[a-z]+(,[a-z]+)*$", maxLength: 100 })),
  mimeType: t.Optional(t.String({ maxLength: 100 })),
  q: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
  uploadedBy: t.Optional(Uuid),
  sort: t.Optional(
    t.Union([t.Literal("-uploadedAt"), t.Literal("originalFilename"), t.Literal("-sizeBytes")]),
  ),
});

export const FileParams = Closed({ projectId: Uuid, fileId: Uuid });
export const DeleteQuery = Closed({ force: t.Optional(t.Boolean({ default: false })) });
export const RestoreBody = Closed({ versionId: Uuid, comment: t.Optional(t.String({ maxLength: 500 })) });
export const CompareQuery = Closed({ base: Uuid, target: Uuid });
export const VersionsQuery = Closed({ ...PageQuery });

export type ProjectFile = typeof ProjectFile.static;
export type VersionInfo = typeof VersionInfo.static;
export type FileUsage = typeof FileUsage.static;
export type FileCompare = typeof FileCompare.static;
export type FileListQuery = typeof FileListQuery.static;
