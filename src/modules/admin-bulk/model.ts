import { t } from "elysia";
import { Closed, Int, Ts, UserRef, Uuid } from "@/lib/schema";

export const ImportQuery = Closed({
  dryRun: t.Optional(t.Boolean({ default: false, description: "Validate and report; write nothing" })),
});

export const ImportReport = t.Object(
  {
    dryRun: t.Boolean(),
    totalRows: Int({ minimum: 0 }),
    created: Int({ minimum: 0 }),
    skipped: Int({ minimum: 0 }),
    failed: Int({ minimum: 0 }),
    rows: t.Array(
      t.Object(
        {
          row: Int({ minimum: 2, description: "Line of the file (the header is line 1)" }),
          email: t.String(),
          status: t.Union([t.Literal("created"), t.Literal("skipped"), t.Literal("failed")]),
          userId: t.Optional(Uuid),
          code: t.Optional(
            t.String({
              description:
                "skipped: EMAIL_EXISTS, DUPLICATE_IN_FILE; failed: EMAIL_INVALID, ROLE_INVALID, DISPLAY_NAME_INVALID, ROW_SHAPE_INVALID",
            }),
          ),
          detail: t.Optional(t.String()),
        },
        { title: "ImportRowReport" },
      ),
    ),
  },
  { title: "UserImportReport" },
);

export const ExportQuery = Closed({
  isActive: t.Optional(t.Boolean({ description: "Only active (true) or deactivated (false) accounts" })),
  role: t.Optional(
    t.Union([t.Literal("system_admin"), t.Literal("user")], { description: "Accounts holding this role" }),
  ),
});

const InactiveDays = Int({ minimum: 1, maximum: 3650, description: "Idle for at least this many days" });

export const DeactivateBody = Closed(
  {
    inactiveDays: InactiveDays,
    dryRun: t.Optional(t.Boolean({ default: true, description: "Default true: list only" })),
    reason: t.Optional(t.String({ maxLength: 500 })),
  },
  { title: "BulkUserDeactivate" },
);

export const DeactivateResult = t.Object(
  {
    dryRun: t.Boolean(),
    cutoff: Ts,
    count: Int({ minimum: 0 }),
    users: t.Array(UserRef, { description: "At most 500" }),
    truncated: t.Boolean(),
  },
  { title: "BulkUserDeactivateResult" },
);

export const ArchiveBody = Closed(
  {
    inactiveDays: InactiveDays,
    dryRun: t.Optional(t.Boolean({ default: true, description: "Default true: list only" })),
  },
  { title: "BulkProjectArchive" },
);

export const ArchiveResult = t.Object(
  {
    dryRun: t.Boolean(),
    cutoff: Ts,
    count: Int({ minimum: 0 }),
    projects: t.Array(
      t.Object(
        { id: Uuid, name: t.String(), code: t.String(), lastActivityAt: Ts },
        { title: "ArchivedProjectRef" },
      ),
      { description: "At most 500" },
    ),
    truncated: t.Boolean(),
  },
  { title: "BulkProjectArchiveResult" },
);
