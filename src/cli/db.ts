import { spawnSync } from "node:child_process";
import { ConfigError, getConfig } from "@/config";
import { openDatabase } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateDown, migrateUp, migrationStatus } from "@/db/migrator";

/*
 * `bun run db:<command>`: migrate | status | rollback [n] | reset | seed [--force] | backup [dir].
 * Exit codes: 0 ok, 1 failure, 2 usage or configuration error.
 */

function backupName(date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `backup_${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}_${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}.sql`;
}

export async function runDbCommand(args: string[]): Promise<number> {
  const [command = "status", arg] = args;
  const config = getConfig();
  const dir = migrationsDir(config);

  if (command === "backup") {
    if (!config.databaseUrl) {
      console.error("db:backup needs DATABASE_URL (pg_dump cannot read the embedded database)");
      return 2;
    }
    const out = `${arg ?? "."}/${backupName()}`;
    const result = spawnSync("pg_dump", ["--no-owner", "--file", out, config.databaseUrl], {
      stdio: "inherit",
    });
    if (result.status !== 0) return 1;
    console.log(out);
    return 0;
  }

  const database = await openDatabase(config);
  try {
    switch (command) {
      case "migrate": {
        const applied = await migrateUp(database, dir);
        console.log(applied.length ? `applied: ${applied.join(", ")}` : "already at head");
        return 0;
      }
      case "status": {
        const rows = await migrationStatus(database, dir);
        for (const r of rows) {
          const state = r.pending ? "pending" : `applied ${r.appliedAt}`;
          console.log(
            `${r.tag}\tcreated ${r.createdAt}\t${state}${r.hashMismatch ? "\tCHANGED SINCE APPLIED" : ""}`,
          );
        }
        return 0;
      }
      case "rollback": {
        const steps = arg ? Number(arg) : 1;
        if (!Number.isInteger(steps) || steps < 1) {
          console.error("usage: db:rollback [steps>=1]");
          return 2;
        }
        const undone = await migrateDown(database, dir, steps);
        console.log(undone.length ? `rolled back: ${undone.join(", ")}` : "nothing to roll back");
        return 0;
      }
      case "reset": {
        if (config.environment === "production") {
          console.error("db:reset is refused in production");
          return 2;
        }
        const undone = await migrateDown(database, dir, Number.MAX_SAFE_INTEGER);
        const applied = await migrateUp(database, dir);
        console.log(`reset: rolled back ${undone.length}, applied ${applied.length}`);
        return 0;
      }
      case "seed": {
        const { seedDatabase } = await import("@/modules/seed/service");
        const { SeedSetInvalidError } = await import("@/modules/analysis-catalogue/seed");
        if (arg !== undefined && arg !== "--force") {
          console.error("usage: seed [--force]");
          return 2;
        }
        try {
          const report = await seedDatabase(database.db, config, { force: arg === "--force" });
          const a = report.analysis;
          if ("missing" in a) console.log(`analysis catalogue: seed folder ${a.missing} not found`);
          else {
            console.log(
              `analysis catalogue: created ${a.created}, updated ${a.updated}, unchanged ${a.unchanged}, skipped ${a.skipped}, archived ${a.archived}`,
            );
            for (const p of a.problems ?? []) console.log(`  skipped ${p.file}: ${p.message}`);
            if (a.created + a.updated + a.archived > 0) {
              // Running instances serve the catalogue from the shared cache; drop it so they see this.
              const { cacheFor } = await import("@/adapters");
              const { createAppLogger } = await import("@/lib/logger");
              const { invalidateCatalogue } = await import("@/modules/analysis-catalogue/cache");
              const cache = cacheFor(config, createAppLogger(config));
              await invalidateCatalogue(cache);
              await cache.close();
            }
          }
          const d = report.driverTree;
          if ("missing" in d) console.log(`driver-tree masters: seed folder ${d.missing} not found`);
          else {
            console.log(
              `driver-tree masters: created ${d.created}, updated ${d.updated}, unchanged ${d.unchanged}, skipped ${d.skipped}, removed ${d.removed}`,
            );
            for (const p of d.problems ?? []) console.log(`  skipped ${p.seedKey}: ${p.message}`);
          }
          console.log(`notification templates: created ${report.notificationTemplates.created}`);
          console.log(`dev admin: ${report.devAdmin}`);
          return 0;
        } catch (error) {
          if (!(error instanceof SeedSetInvalidError)) throw error;
          console.error(error.message);
          return 1;
        }
      }
      default:
        console.error(
          `unknown command '${command}' (migrate | status | rollback [n] | reset | seed [--force] | backup [dir])`,
        );
        return 2;
    }
  } finally {
    await database.close();
  }
}

if (import.meta.main) {
  try {
    process.exit(await runDbCommand(process.argv.slice(2)));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
