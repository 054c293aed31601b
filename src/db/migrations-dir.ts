import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Config } from "@/config";

/* Source checkouts keep migrations in ./drizzle; the compiled binary ships them beside itself. */
export function migrationsDir(config: Config): string {
  if (config.migrationsDir) return resolve(config.migrationsDir);
  const candidates = [
    resolve(import.meta.dir, "../../drizzle"),
    resolve("drizzle"),
    join(dirname(process.execPath), "drizzle"),
  ];
  return candidates.find((dir) => existsSync(join(dir, "meta", "_journal.json"))) ?? candidates[0];
}
