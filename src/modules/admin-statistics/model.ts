import { t } from "elysia";
import { Closed, DateStr, Int, QueryInt, Ts } from "@/lib/schema";
import { FileKind } from "@/modules/file/model";

/* Admin statistics (api.md §2.12.5). Durations and rates are null where nothing was measured (§1.2). */

export const DaysQuery = Closed({
  days: t.Optional(
    QueryInt({
      minimum: 1,
      maximum: 365,
      default: 30,
      description: "UTC calendar days ending today (today included), 1–365, default 30",
    }),
  ),
});

const Count = Int({ minimum: 0 });
const Bytes = Int({ minimum: 0, description: "Bytes" });
const NullableMs = t.Union([t.Number({ minimum: 0 }), t.Null()], {
  description: "Milliseconds; null when no request",
});
const Rate = t.Union([t.Number({ minimum: 0, maximum: 1 }), t.Null()], {
  description: "Errors (status ≥ 400) / requests; null when no request",
});

export const StatisticsOverview = t.Object(
  {
    users: t.Object({
      total: Count,
      active: Int({ minimum: 0, description: "Accounts not deactivated" }),
      activeToday: Int({ minimum: 0, description: "Distinct users with an API request today (UTC)" }),
      newThisMonth: Int({ minimum: 0, description: "Accounts created this UTC calendar month" }),
    }),
    projects: t.Object({ total: Count, active: Count, inactive: Count }),
    storage: t.Object({
      totalBytes: Int({ minimum: 0, description: "Bytes of every stored file version" }),
      fileCount: Int({ minimum: 0, description: "Files (latest version of each chain)" }),
    }),
    api: t.Object({ requestsToday: Count, avgDurationMs: NullableMs, errorRate: Rate }),
    authSessions: t.Object({
      active: Int({ minimum: 0, description: "Not ended and not expired" }),
      loginsToday: Int({ minimum: 0, description: "Auth sessions started today (UTC)" }),
    }),
    llm: t.Object({ turnsToday: Int({ minimum: 0, description: "Completed agent chat turns today (UTC)" }) }),
    generatedAt: Ts,
  },
  { title: "StatisticsOverview" },
);

export const UserStatistics = t.Object(
  {
    days: Int(),
    series: t.Array(
      t.Object({
        date: DateStr,
        activeUsers: Int({ minimum: 0, description: "Distinct users with an API request that day" }),
        newUsers: Int({ minimum: 0, description: "Accounts created that day" }),
        logins: Int({ minimum: 0, description: "Auth sessions started that day" }),
      }),
    ),
  },
  { title: "UserStatistics" },
);

export const StorageStatistics = t.Object(
  {
    days: Int(),
    totalBytes: Bytes,
    series: t.Array(
      t.Object({
        date: DateStr,
        uploadedBytes: Bytes,
        uploadedFiles: Int({ minimum: 0, description: "File versions uploaded that day (still stored)" }),
        cumulativeBytes: Int({
          minimum: 0,
          description: "Bytes stored from uploads up to the end of that day",
        }),
      }),
    ),
    byKind: t.Array(
      t.Object({
        kind: FileKind,
        fileCount: Int({ minimum: 0, description: "Files (latest versions)" }),
        bytes: Int({ minimum: 0, description: "Bytes of every version" }),
      }),
    ),
  },
  { title: "StorageStatistics" },
);

export const ApiRequestStatistics = t.Object(
  {
    days: Int(),
    series: t.Array(
      t.Object({
        date: DateStr,
        requests: Count,
        errors: Count,
        avgDurationMs: NullableMs,
        p95DurationMs: NullableMs,
      }),
    ),
    topRoutes: t.Array(
      t.Object({
        route: t.String({ description: "Route template" }),
        requests: Count,
        avgDurationMs: t.Number({ minimum: 0 }),
      }),
      { description: "The ten most requested route templates of the period" },
    ),
  },
  { title: "ApiRequestStatistics" },
);

export const ErrorStatistics = t.Object(
  {
    days: Int(),
    errorRate: Rate,
    series: t.Array(t.Object({ date: DateStr, errors: Count, total: Count })),
    byStatus: t.Array(t.Object({ status: Int(), count: Count })),
    byCode: t.Array(t.Object({ code: t.String(), count: Count })),
  },
  { title: "ErrorStatistics" },
);

export type DaysQuery = typeof DaysQuery.static;
export type StatisticsOverview = typeof StatisticsOverview.static;
export type UserStatistics = typeof UserStatistics.static;
export type StorageStatistics = typeof StorageStatistics.static;
export type ApiRequestStatistics = typeof ApiRequestStatistics.static;
export type ErrorStatistics = typeof ErrorStatistics.static;
