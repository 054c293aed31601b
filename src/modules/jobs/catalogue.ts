import type { Logger } from "pino";
import type { Config } from "@/config";
import type { DatabaseHandle } from "@/db/client";
import type { Cache } from "@/lib/cache";
import type { Storage } from "@/lib/storage";
import { expireSessions } from "@/modules/admin-auth-session/service";
import { applyRetention } from "@/modules/admin-retention/service";
import { fanOutDue } from "@/modules/announcement/service";
import { drainDeletionQueue } from "@/modules/storage-deletion/service";
import { clearExpiredChatLeases } from "./queries";
import type { JobSpec } from "./runner";

/*
 * The jobs of api.md §4.4 this service runs today. Announcement fan-out arrives with its feature.
 */

export type JobDeps = {
  database: DatabaseHandle;
  cache: Cache;
  storage: Storage;
  logger: Logger;
  config: Config;
};

export const JOB_NAMES = {
  storageDeletion: "storage_deletion",
  sessionExpiry: "auth_session_expiry",
  chatLeaseSweep: "chat_lease_sweep",
  retention: "retention",
  announcementFanOut: "announcement_fanout",
} as const;

export function standardJobs(deps: JobDeps): JobSpec[] {
  const db = deps.database.db;
  return [
    {
      name: JOB_NAMES.storageDeletion,
      everyMs: 10_000,
      // Several passes when a large delete queued many objects, but never one unbounded pass.
      async run(signal) {
        let deleted = 0;
        let failed = 0;
        for (let pass = 0; pass < 10 && !signal.aborted; pass++) {
          const r = await drainDeletionQueue(db, deps.storage, deps.logger, { limit: 100 });
          deleted += r.deleted;
          failed += r.failed;
          if (r.deleted + r.failed < 100) break;
        }
        return { deleted, failed };
      },
    },
    {
      name: JOB_NAMES.sessionExpiry,
      everyMs: 5 * 60_000,
      run: () => expireSessions(db, deps.cache),
    },
    {
      name: JOB_NAMES.chatLeaseSweep,
      everyMs: 60_000,
      run: async () => ({ cleared: await clearExpiredChatLeases(db) }),
    },
    {
      // The RETENTION.* policy, daily at 03:00 UTC; the run's log line carries the counts.
      name: JOB_NAMES.retention,
      everyMs: 86_400_000,
      dailyAtUtc: "03:00",
      run: (signal) => applyRetention({ db, config: deps.config }, signal),
    },
    {
      // Announcements with notify=true whose start has come (api.md §4.4); each is sent once.
      name: JOB_NAMES.announcementFanOut,
      everyMs: 60_000,
      run: () => fanOutDue(db),
    },
  ];
}
