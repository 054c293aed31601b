import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Config } from "@/config";
import type { Database } from "@/db/client";
import { insertDevAdmin } from "@/db/queries/users";
import { type CatalogueSeedReport, seedAnalysisCatalogue } from "@/modules/analysis-catalogue/seed";
import { type DriverTreeSeedReport, seedDriverTreeMasters } from "@/modules/driver-tree-master/seed";
import { seedTemplates } from "@/modules/notification/service";

export type SeedReport = {
  devAdmin: "created" | "unchanged" | "skipped";
  analysis: CatalogueSeedReport | { missing: string };
  driverTree: DriverTreeSeedReport | { missing: string };
  /** Notification templates created (6 types × ja/en; existing rows are never overwritten). */
  notificationTemplates: { created: number };
};

export type SeedDatabaseOptions = {
  force?: boolean;
  logger?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
};

/* The compiled binary ships `seed/` beside itself; source checkouts keep it at the repository root. */
export function seedDir(config: Config): string {
  if (config.seedDir) return resolve(config.seedDir);
  const beside = join(dirname(process.execPath), "seed");
  return existsSync(beside) ? beside : resolve("seed");
}

/*
 * Idempotent seed. The analysis catalogue and the driver-tree masters are loaded in every environment (analysis.md §6.4); a
 * missing seed folder is reported, not fatal, so an image without it still starts. In development
 * the DEV_MOCK_USER_EMAIL account exists as a system admin so the dev token works from the first
 * request. Throws SeedSetInvalidError (nothing written) when a seed set does not validate.
 */
export async function seedDatabase(
  db: Database,
  config: Config,
  options: SeedDatabaseOptions = {},
): Promise<SeedReport> {
  const dir = join(seedDir(config), "analysis");
  const analysis = existsSync(dir)
    ? await seedAnalysisCatalogue(db, { dir, force: options.force, logger: options.logger })
    : { missing: dir };
  const dtDir = join(seedDir(config), "driver-tree");
  const driverTree = existsSync(dtDir)
    ? await seedDriverTreeMasters(db, { dir: dtDir, force: options.force, logger: options.logger })
    : { missing: dtDir };
  const notificationTemplates = { created: await seedTemplates(db) };
  if (config.environment !== "development") {
    return { devAdmin: "skipped", analysis, driverTree, notificationTemplates };
  }
  const created = await insertDevAdmin(db, config.devMockUserEmail);
  return { devAdmin: created ? "created" : "unchanged", analysis, driverTree, notificationTemplates };
}
