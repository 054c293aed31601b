import type { Config } from "@/config";
import type { Database } from "@/db/client";
import { userAccount } from "@/db/schema";
import { newId } from "@/lib/ids";

export type SeedReport = { devAdmin: "created" | "unchanged" | "skipped" };

/*
 * Idempotent seed. In development the DEV_MOCK_USER_EMAIL account exists as a system admin so the
 * dev token works from the first request; nothing is seeded in other environments.
 */
export async function seedDatabase(db: Database, config: Config): Promise<SeedReport> {
  if (config.environment !== "development") return { devAdmin: "skipped" };
  const inserted = await db
    .insert(userAccount)
    .values({
      id: newId(),
      email: config.devMockUserEmail,
      displayName: "Development User",
      roles: ["system_admin", "user"],
      source: "seed",
    })
    .onConflictDoNothing()
    .returning({ id: userAccount.id });
  return { devAdmin: inserted.length > 0 ? "created" : "unchanged" };
}
