import { t } from "elysia";
import { FILE_KINDS } from "@/lib/file-types";
import { Closed, IdOf, Int, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";

export const FileKind = t.UnionEnum(FILE_KINDS);

export const ProjectFile = t.Object(
  {
    id: Uuid,
    projectId: Uuid,
    chainId: Uuid,
    version: Int(),
    isLatest: t.Boolean(),
    parentFileId: t.Union([Uuid, t.Null()]),
    restoredFromId: t.Union([Uuid, t.Null()]),
    filename: t.String(),
    originalFilename: t.String(),
    kind: FileKind,
    mimeType: t.String(),
    sizeBytes: Int(),
    checksumSha256: t.String(),
    comment: t.Union([t.String(), t.Null()]),
    uploadedBy: t.Union([UserRef, t.Null()]),
    uploadedAt: Ts,
    versionCount: Int(),
  },
  { title: "FileVersion" },
);

export const VersionInfo = t.Object(
  {
    id: Uuid,
    version: Int(),
    sizeBytes: Int(),
    checksumSha256: t.String(),
    uploadedAt: Ts,
    uploadedBy: t.Union([UserRef, t.Null()]),
  },
  { title: "FileVersionInfo" },
);

export const FileUsage = t.Object(
  {
    fileId: Uuid,
    chainId: Uuid,
    analysisSessionCount: Int(),
    driverTreeSheetCount: Int(),
    boundNodeCount: Int(),
    usages: t.Array(
      t.Object({
        usageType: t.Union([t.Literal("analysis_session"), t.Literal("driver_tree_sheet")]),
        targetId: Uuid,
        targetName: t.String(),
        sheetName: t.Union([t.String(), t.Null()]),
        usedAt: Ts,
      }),
    ),
  },
  { title: "FileUsage" },
);

export const FileCompare = t.Object(
  {
    base: VersionInfo,
    target: VersionInfo,
    identical: t.Boolean(),
    sizeDeltaBytes: Int(),
    sheets: t.Union([
      t.Object({ added: t.Array(t.String()), removed: t.Array(t.String()), common: t.Array(t.String()) }),
      t.Null(),
    ]),
    rowCounts: t.Union([
      t.Object({ base: t.Record(t.String(), Int()), target: t.Record(t.String(), Int()) }),
      t.Null(),
    ]),
  },
  { title: "FileCompare" },
);

export const FileListQuery = Closed({
  ...PageQuery,
  kind: t.Optional(
    t.String({
      pattern: "^[a-z]+(,[a-z]+)*$",
      maxLength: 100,
      description: "Comma-separated file kinds to include, e.g. csv,xlsx",
    }),
  ),
  mimeType: t.Optional(
    t.String({ maxLength: 100, description: "MIME type prefix, e.g. text/ or image/png" }),
  ),
  q: t.Optional(
    t.String({
      minLength: 1,
      maxLength: 100,
      description: "Original file name contains this text (case-insensitive)",
    }),
  ),
  uploadedBy: t.Optional(IdOf("Uploader (user)")),
  sort: t.Optional(
    t.Union([t.Literal("-uploadedAt"), t.Literal("originalFilename"), t.Literal("-sizeBytes")], {
      description: "Sort order; a leading - sorts descending (default -uploadedAt)",
    }),
  ),
});

export const FileParams = Closed({ projectId: IdOf("Project"), fileId: IdOf("File version") });
export const DeleteQuery = Closed({
  force: t.Optional(
    t.Boolean({ default: false, description: "Delete even while sessions or driver trees use the file" }),
  ),
});
export const RestoreBody = Closed(
  { versionId: Uuid, comment: t.Optional(t.String({ maxLength: 500 })) },
  { title: "FileRestore" },
);
export const CompareQuery = Closed({ base: IdOf("Base file version"), target: IdOf("Target file version") });
export const VersionsQuery = Closed({ ...PageQuery });

export type ProjectFile = typeof ProjectFile.static;
export type VersionInfo = typeof VersionInfo.static;
export type FileUsage = typeof FileUsage.static;
export type FileCompare = typeof FileCompare.static;
export type FileListQuery = typeof FileListQuery.static;
