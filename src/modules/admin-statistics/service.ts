import type { DbOrTx } from "@/db/client";
import type {
  ApiRequestStatistics,
  DaysQuery,
  ErrorStatistics,
  StatisticsOverview,
  StorageStatistics,
  UserStatistics,
} from "./model";
import {
  selectErrorSeries,
  selectErrorsByCode,
  selectErrorsByStatus,
  selectOverview,
  selectRequestSeries,
  selectStorageByKind,
  selectStorageSeries,
  selectTopRoutes,
  selectUserSeries,
} from "./queries";

/* Admin statistics (api.md §2.12.5): database aggregates shaped for the wire. */

const TOP_ROUTES = 10;
const TOP_CODES = 50;

const daysOf = (q: DaysQuery) => q.days ?? 30;
/* A rate over nothing is not 0 % but unmeasured (api.md §1.2: non-finite → null). */
const rate = (part: number, whole: number) => (whole === 0 ? null : part / whole);

export async function overview(db: DbOrTx): Promise<StatisticsOverview> {
  const r = await selectOverview(db);
  return {
    users: {
      total: r.users_total,
      active: r.users_active,
      activeToday: r.users_active_today,
      newThisMonth: r.users_new_month,
    },
    projects: {
      total: r.projects_total,
      active: r.projects_active,
      inactive: r.projects_total - r.projects_active,
    },
    storage: { totalBytes: r.storage_bytes, fileCount: r.file_count },
    api: {
      requestsToday: r.requests_today,
      avgDurationMs: r.avg_ms_today,
      errorRate: rate(r.errors_today, r.requests_today),
    },
    authSessions: { active: r.sessions_active, loginsToday: r.logins_today },
    llm: { turnsToday: r.turns_today },
    generatedAt: new Date().toISOString(),
  };
}

export async function users(db: DbOrTx, q: DaysQuery): Promise<UserStatistics> {
  const days = daysOf(q);
  const series = await selectUserSeries(db, days);
  return {
    days,
    series: series.map((r) => ({
      date: r.date,
      activeUsers: r.active_users,
      newUsers: r.new_users,
      logins: r.logins,
    })),
  };
}

export async function storage(db: DbOrTx, q: DaysQuery): Promise<StorageStatistics> {
  const days = daysOf(q);
  const [series, kinds] = await Promise.all([selectStorageSeries(db, days), selectStorageByKind(db)]);
  return {
    days,
    totalBytes: series[0]?.total_bytes ?? 0,
    series: series.map((r) => ({
      date: r.date,
      uploadedBytes: r.uploaded_bytes,
      uploadedFiles: r.uploaded_files,
      cumulativeBytes: r.cumulative_bytes,
    })),
    byKind: kinds.map((k) => ({
      kind: k.kind as StorageStatistics["byKind"][number]["kind"],
      fileCount: k.file_count,
      bytes: k.bytes,
    })),
  };
}

export async function apiRequests(db: DbOrTx, q: DaysQuery): Promise<ApiRequestStatistics> {
  const days = daysOf(q);
  const [series, top] = await Promise.all([
    selectRequestSeries(db, days),
    selectTopRoutes(db, days, TOP_ROUTES),
  ]);
  return {
    days,
    series: series.map((r) => ({
      date: r.date,
      requests: r.requests,
      errors: r.errors,
      avgDurationMs: r.avg_ms,
      p95DurationMs: r.p95_ms,
    })),
    topRoutes: top.map((r) => ({ route: r.route, requests: r.requests, avgDurationMs: r.avg_ms })),
  };
}

export async function errors(db: DbOrTx, q: DaysQuery): Promise<ErrorStatistics> {
  const days = daysOf(q);
  const [series, byStatus, byCode] = await Promise.all([
    selectErrorSeries(db, days),
    selectErrorsByStatus(db, days),
    selectErrorsByCode(db, days, TOP_CODES),
  ]);
  const errorCount = series.reduce((n, r) => n + r.errors, 0);
  const total = series.reduce((n, r) => n + r.total, 0);
  return {
    days,
    errorRate: rate(errorCount, total),
    series,
    byStatus,
    byCode,
  };
}
