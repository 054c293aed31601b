import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DatabaseHandle } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { loadMigrations, migrateDown, migrateUp, migrationStatus } from "@/db/migrator";
import { newId } from "@/lib/ids";
import { isolatedDatabase, testConfig } from "./helpers/context";
import { usingPostgres } from "./helpers/env";

const dir = migrationsDir(testConfig());
const tables = async (db: DatabaseHandle) =>
  (
    await db.raw.query<{ t: string }>(
      "select table_name as t from information_schema.tables where table_schema = 'public' and table_name <> '_migrations' order by 1",
    )
  ).map((r) => r.t);

describe(`migrations on ${usingPostgres ? "PostgreSQL" : "PGlite"}`, () => {
  let db: DatabaseHandle;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ handle: db, drop } = await isolatedDatabase());
  }, 60_000);
  afterAll(() => drop());

  test("every migration has a down script", () => {
    for (const m of loadMigrations(dir)) expect(m.down).not.toBeNull();
  });

  test("up → status → rollback → up again", async () => {
    const all = loadMigrations(dir).map((m) => m.tag);
    expect(await migrateUp(db, dir)).toEqual(all);
    expect(await migrateUp(db, dir)).toEqual([]);
    const core = ["audit_log", "project", "project_file", "project_member", "user_account", "user_settings"];
    for (const t of core) expect(await tables(db)).toContain(t);

    const status = await migrationStatus(db, dir);
    expect(status.every((s) => !s.pending && s.appliedAt !== null && !s.hashMismatch)).toBe(true);

    const last = all[all.length - 1];
    expect(await migrateDown(db, dir)).toEqual([last]);
    const after = await migrationStatus(db, dir);
    expect(after.find((s) => s.tag === last)?.pending).toBe(true);

    expect(await migrateDown(db, dir, 100)).toEqual(all.slice(0, -1).reverse());
    expect(await tables(db)).toEqual([]);

    expect(await migrateUp(db, dir)).toEqual(all);
    for (const t of core) expect(await tables(db)).toContain(t);
  });

  test("schema rules hold: unique lower(email), role check, append-only audit", async () => {
    const id = newId();
    await db.raw.query("insert into user_account (id, email) values ($1, $2)", [id, "Case@Example.com"]);
    await expect(
      db.raw.query("insert into user_account (id, email) values ($1, $2)", [newId(), "case@example.COM"]),
    ).rejects.toThrow();
    await expect(
      db.raw.query("insert into user_account (id, email, roles) values ($1, $2, $3)", [
        newId(),
        "r@x.y",
        ["root"],
      ]),
    ).rejects.toThrow();

    const auditId = newId();
    await db.raw.query(
      "insert into audit_log (id, user_id, event_type, action, resource_type) values ($1, $2, 'DATA_CHANGE', 'CREATE', 'project')",
      [auditId, id],
    );
    await expect(db.raw.query("update audit_log set action = 'X' where id = $1", [auditId])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.raw.query("delete from audit_log where id = $1", [auditId])).rejects.toThrow(/retention/);
    // Deleting the actor is allowed: the FK nulls user_id and the row survives.
    await db.raw.query("delete from user_account where id = $1", [id]);
    const rows = await db.raw.query<{ user_id: string | null }>(
      "select user_id from audit_log where id = $1",
      [auditId],
    );
    expect(rows).toEqual([{ user_id: null }]);
  });
});
