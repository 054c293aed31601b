import type { Logger } from "pino";
import type { DatabaseHandle } from "@/db/client";
import type { Cache } from "@/lib/cache";
import type { Storage } from "@/lib/storage";
import { expireSessions } from "@/modules/admin-auth-session/service";
import { fanOutDue } from "@/modules/announcement/service";
import { drainDeletionQueue } from "@/modules/storage-deletion/service";
import { clearExpiredChatLeases } from "./queries";
import type { JobSpec } from "./runner";

/*
 * The jobs of api.md §4.4 this service runs today. Announcement fan-out and retention arrive with
 * their features (their tables do not exist yet).
 */

export type JobDeps = { database: DatabaseHandle; cache: Cache; storage: Storage; logger: Logger };

export const JOB_NAMES = {
  storageDeletion: "storage_deletion",
  sessionExpiry: "auth_session_expiry",
  chatLeaseSweep: "chat_lease_sweep",
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
      // Announcements with notify=true whose start has come (api.md §4.4); each is sent once.
      name: JOB_NAMES.announcementFanOut,
      everyMs: 60_000,
      run: () => fanOutDue(db),
    },
  ];
}
