import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DatabaseHandle } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { loadMigrations, migrateDown, migrateUp } from "@/db/migrator";
import { newId } from "@/lib/ids";
import { isolatedDatabase, testConfig } from "./helpers/context";
import { usingPostgres } from "./helpers/env";

/* The driver-tree tables of api.md §3.5: constraints the services rely on. */

const dir = migrationsDir(testConfig());
const TABLES = [
  "driver_tree",
  "driver_tree_category",
  "driver_tree_data_frame",
  "driver_tree_file",
  "driver_tree_formula",
  "driver_tree_node",
  "driver_tree_policy",
  "driver_tree_relationship",
  "driver_tree_relationship_child",
  "driver_tree_template",
];

const dtTables = async (db: DatabaseHandle) =>
  (
    await db.raw.query<{ t: string }>(
      "select table_name as t from information_schema.tables where table_schema = 'public' and table_name like 'driver_tree%' order by 1",
    )
  ).map((r) => r.t);

const count = async (db: DatabaseHandle, table: string, where = "true", params: unknown[] = []) =>
  Number(
    (
      await db.raw.query<{ n: string | number }>(`select count(*) as n from ${table} where ${where}`, params)
    )[0].n,
  );

describe(`driver-tree tables on ${usingPostgres ? "PostgreSQL" : "PGlite"}`, () => {
  let db: DatabaseHandle;
  let drop: () => Promise<void>;
  const projectId = newId();
  beforeAll(async () => {
    ({ handle: db, drop } = await isolatedDatabase());
    await migrateUp(db, dir);
    await db.raw.query("insert into project (id, name, code) values ($1, 'P', 'P-DT')", [projectId]);
  }, 60_000);
  afterAll(() => drop());

  async function treeWithRoot() {
    const treeId = newId();
    const root = newId();
    const child = newId();
    const rel = newId();
    // The root pointer is written before its node exists: legal only because the FK is deferred.
    await db.rawTransaction(async (raw) => {
      await raw.query(
        "insert into driver_tree (id, project_id, name, root_node_id) values ($1, $2, 'T', $3)",
        [treeId, projectId, root],
      );
      await raw.query(
        "insert into driver_tree_node (id, driver_tree_id, label, node_type) values ($1, $2, '売上', 'calculation'), ($3, $2, '客数', 'input')",
        [root, treeId, child],
      );
      await raw.query(
        "insert into driver_tree_relationship (id, driver_tree_id, parent_node_id, operator) values ($1, $2, $3, '*')",
        [rel, treeId, root],
      );
      await raw.query(
        "insert into driver_tree_relationship_child (id, relationship_id, child_node_id, order_index) values ($1, $2, $3, 0)",
        [newId(), rel, child],
      );
      await raw.query(
        "insert into driver_tree_policy (id, node_id, label, value) values ($1, $2, '施策', 5)",
        [newId(), child],
      );
    });
    return { treeId, root, child, rel };
  }

  test("the migration creates the ten tables", async () => {
    expect(await dtTables(db)).toEqual(TABLES);
  });

  test("root FK is deferred; a dangling root fails at commit", async () => {
    const { treeId } = await treeWithRoot();
    expect(await count(db, "driver_tree", "id = $1", [treeId])).toBe(1);
    await expect(
      db.rawTransaction((raw) =>
        raw.query("insert into driver_tree (id, project_id, name, root_node_id) values ($1, $2, 'X', $3)", [
          newId(),
          projectId,
          newId(),
        ]),
      ),
    ).rejects.toThrow();
  });

  test("labels are unique per tree (exact match), not across trees", async () => {
    const a = await treeWithRoot();
    const b = await treeWithRoot();
    expect(a.treeId).not.toBe(b.treeId);
    await expect(
      db.raw.query(
        "insert into driver_tree_node (id, driver_tree_id, label, node_type) values ($1, $2, '売上', 'input')",
        [newId(), a.treeId],
      ),
    ).rejects.toThrow();
    await db.raw.query(
      "insert into driver_tree_node (id, driver_tree_id, label, node_type) values ($1, $2, '売上 ', 'input')",
      [newId(), a.treeId],
    );
  });

  test("child order swaps inside one transaction (deferred unique)", async () => {
    const { treeId, rel, root } = await treeWithRoot();
    const second = newId();
    await db.raw.query(
      "insert into driver_tree_node (id, driver_tree_id, label, node_type) values ($1, $2, '客単価', 'input')",
      [second, treeId],
    );
    await db.raw.query(
      "insert into driver_tree_relationship_child (id, relationship_id, child_node_id, order_index) values ($1, $2, $3, 1)",
      [newId(), rel, second],
    );
    await db.rawTransaction(async (raw) => {
      await raw.query(
        "update driver_tree_relationship_child set order_index = 1 - order_index where relationship_id = $1",
        [rel],
      );
    });
    const rows = await db.raw.query<{ child_node_id: string }>(
      "select child_node_id from driver_tree_relationship_child where relationship_id = $1 order by order_index",
      [rel],
    );
    expect(rows[0].child_node_id).toBe(second);
    // One relationship per parent.
    await expect(
      db.raw.query(
        "insert into driver_tree_relationship (id, driver_tree_id, parent_node_id, operator) values ($1, $2, $3, '+')",
        [newId(), treeId, root],
      ),
    ).rejects.toThrow();
  });

  test("checks: node type, operator, binding pair, policy kind/cost/duration", async () => {
    const { treeId, child } = await treeWithRoot();
    const bad = [
      [
        "insert into driver_tree_node (id, driver_tree_id, label, node_type) values ($1, $2, 'x', '計算')",
        [newId(), treeId],
      ],
      [
        "insert into driver_tree_relationship (id, driver_tree_id, parent_node_id, operator) values ($1, $2, $3, '%')",
        [newId(), treeId, child],
      ],
      ["update driver_tree_node set bound_item = '施設数' where id = $1", [child]],
      [
        "insert into driver_tree_policy (id, node_id, label, value_kind) values ($1, $2, 'p', 'ratio')",
        [newId(), child],
      ],
      [
        "insert into driver_tree_policy (id, node_id, label, cost) values ($1, $2, 'p', -1)",
        [newId(), child],
      ],
      [
        "insert into driver_tree_policy (id, node_id, label, duration_months) values ($1, $2, 'p', 601)",
        [newId(), child],
      ],
      [
        "insert into driver_tree_formula (id, driver_type_id, driver_type, kpi, formulas) values ($1, $2, 't', '利益', '[]')",
        [newId(), newId()],
      ],
      [
        "insert into driver_tree_formula (id, driver_type_id, driver_type, kpi, formulas) values ($1, $2, 't', '売上', '{}')",
        [newId(), newId()],
      ],
    ] as const;
    for (const [sql, params] of bad) await expect(db.raw.query(sql, [...params])).rejects.toThrow();
  });

  test("deleting the root node nulls the pointer; deleting the tree cascades everything", async () => {
    const { treeId, root, child } = await treeWithRoot();
    await db.raw.query("delete from driver_tree_node where id = $1", [root]);
    expect(
      (
        await db.raw.query<{ r: string | null }>("select root_node_id as r from driver_tree where id = $1", [
          treeId,
        ])
      )[0].r,
    ).toBeNull();
    expect(await count(db, "driver_tree_relationship", "driver_tree_id = $1", [treeId])).toBe(0);
    await db.raw.query("delete from driver_tree where id = $1", [treeId]);
    expect(await count(db, "driver_tree_node", "driver_tree_id = $1", [treeId])).toBe(0);
    expect(await count(db, "driver_tree_policy", "node_id = $1", [child])).toBe(0);
  });

  test("down removes exactly these tables; up restores them", async () => {
    // Later migrations are rolled back first and come back with it.
    const tags = loadMigrations(dir).map((m) => m.tag);
    const tree = tags.find((t) => t.includes("driver_tree")) as string;
    const from = tags.slice(tags.indexOf(tree));
    expect(await migrateDown(db, dir, from.length)).toEqual([...from].reverse());
    expect(await dtTables(db)).toEqual([]);
    expect(await count(db, "project")).toBe(1);
    expect(await migrateUp(db, dir)).toEqual(from);
    expect(await dtTables(db)).toEqual(TABLES);
  });
});
