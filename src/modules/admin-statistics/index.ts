import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { authPlugin } from "@/plugins/auth";
import {
  ApiRequestStatistics,
  DaysQuery,
  ErrorStatistics,
  StatisticsOverview,
  StorageStatistics,
  UserStatistics,
} from "./model";
import * as service from "./service";

/* Admin statistics (api.md §2.12.5), inside the one admin guard. */
export function adminStatisticsController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["admin"];
  const daily =
    "Days are UTC calendar days ending today; every day of the window is present (zero when nothing happened).";

  return new Elysia({ name: "admin-statistics", prefix: "/admin/statistics" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        .get("/overview", () => service.overview(db), {
          response: StatisticsOverview,
          detail: {
            tags,
            operationId: "admin.statistics.overview",
            summary: "System figures at a glance (admin)",
            description:
              "System admins only. Users, projects, stored bytes (every version) and files, today's API requests (UTC), active auth sessions and sign-ins today, completed agent turns today.",
          },
        })
        .get("/users", ({ query }) => service.users(db, query), {
          query: DaysQuery,
          response: UserStatistics,
          detail: {
            tags,
            operationId: "admin.statistics.users",
            summary: "Active users, new users and sign-ins per day (admin)",
            description: `System admins only. ${daily} Active = made an API request that day.`,
          },
        })
        .get("/storage", ({ query }) => service.storage(db, query), {
          query: DaysQuery,
          response: StorageStatistics,
          detail: {
            tags,
            operationId: "admin.statistics.storage",
            summary: "Stored bytes per upload day and per file kind (admin)",
            description: `System admins only. ${daily} Counts the file versions still stored, by the day they were uploaded.`,
          },
        })
        .get("/api-requests", ({ query }) => service.apiRequests(db, query), {
          query: DaysQuery,
          response: ApiRequestStatistics,
          detail: {
            tags,
            operationId: "admin.statistics.apiRequests",
            summary: "API requests, errors and latency per day; the busiest routes (admin)",
            description: `System admins only. ${daily} From the activity log; durations are null on a day without requests.`,
          },
        })
        .get("/errors", ({ query }) => service.errors(db, query), {
          query: DaysQuery,
          response: ErrorStatistics,
          detail: {
            tags,
            operationId: "admin.statistics.errors",
            summary: "Failed API requests per day, by status and by problem code (admin)",
            description: `System admins only. ${daily} An error is a response with status ≥ 400.`,
          },
        }),
    );
}
