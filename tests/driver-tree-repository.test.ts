import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DatabaseHandle } from "@/db/client";
import { newId } from "@/lib/ids";
import { loadTreeDetail } from "@/modules/driver-tree/queries";
import { insertStructure, insertTree } from "@/modules/driver-tree/repository";
import { sharedDatabase } from "./helpers/context";
import { usingPostgres } from "./helpers/env";

/* The aggregate writer and the detail reader agree: what is written is read back in order. */
describe(`driver-tree repository on ${usingPostgres ? "PostgreSQL" : "PGlite"}`, () => {
  let db: DatabaseHandle;
  const projectId = newId();
  const otherProject = newId();
  beforeAll(async () => {
    db = await sharedDatabase();
    for (const [id, code] of [
      [projectId, `DTR-${projectId.slice(-8)}`],
      [otherProject, `DTR-${otherProject.slice(-8)}`],
    ])
      await db.raw.query("insert into project (id, name, code) values ($1, 'P', $2)", [id, code]);
  });
  afterAll(async () => {
    await db.raw.query("delete from project where id = any($1)", [[projectId, otherProject]]);
  });

  test("a tree written with its structure reads back with root, nodes and ordered children", async () => {
    const [a, b, c] = [newId(), newId(), newId()];
    const tree = await db.db.transaction(async (tx) => {
      const t = await insertTree(tx, { projectId, name: "売上ツリー", createdBy: null });
      await insertStructure(tx, t.id, {
        rootId: a,
        nodes: [
          { id: a, label: "売上", nodeType: "calculation", positionX: 0, positionY: 0, value: null },
          { id: b, label: "単価", nodeType: "input", positionX: -100, positionY: 100, value: 2000 },
          { id: c, label: "客数", nodeType: "input", positionX: 100, positionY: 100, value: 25000 },
        ],
        relationships: [{ parentId: a, operator: "*", childIds: [c, b] }],
      });
      return t;
    });
    const detail = await loadTreeDetail(db.db, projectId, tree.id);
    expect(detail?.rootNodeId).toBe(a);
    expect(detail?.nodeCount).toBe(3);
    expect(detail?.nodes.map((n) => n.label).sort()).toEqual(["単価", "客数", "売上"].sort());
    expect(detail?.relationship).toEqual([{ parentId: a, operator: "*", childIdList: [c, b] }]);
    expect(await loadTreeDetail(db.db, otherProject, tree.id)).toBeNull();
  });
});
