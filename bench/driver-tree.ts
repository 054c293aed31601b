/*
 * Driver-tree engine benchmark (issue 16): the pure parts of `GET …/tree/{id}/data` and of an
 * import.
 *   E1  evaluate a generated tree of 10,000 nodes × 24 periods with 500 policies (target ≤ 100 ms)
 *   E1j the same plus JSON serialisation of the result (what the route sends)
 *   I1  plan an import of 200 formulas into an empty tree (target ≤ 300 ms)
 *   I2  plan the same 200 formulas into the 10,000-node tree (label lookups against a big tree)
 * and the service level, through the real database (the route's work minus HTTP):
 *   S1  `…/data` of a stored 10,000-node tree with 500 policies: snapshot read of nodes,
 *       relationships and policies, evaluation, JSON (one period `total` until bindings; ≤ 100 ms)
 *   S2  `…/import` of 200 formulas into an empty stored tree: lock, plan, write, audit, read the
 *       TreeDetail answer, commit (≤ 300 ms)
 * 2 warm-up + 15 runs each (S2: 2 + 9), in this process; reports median and p95 and the load average.
 *
 * `bun bench/driver-tree.ts [--write]` (`--write` saves bench/results/<date>-<host>-driver-tree.json).
 * The database: BENCH_DATABASE_URL, else DATABASE_URL, else an in-memory PGlite (reported as such).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname, loadavg } from "node:os";
import { join } from "node:path";
import { configFrom } from "@/config";
import { openDatabase } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import {
  applyImportPlan,
  type EvalInput,
  type EvalNode,
  type EvalPolicy,
  evaluateTree,
  planImport,
  type TreeNodeType,
  type TreeOperator,
  type TreeRelationship,
  type TreeState,
} from "@/engine";
import { newId as uuid } from "@/lib/ids";
import type { Caller } from "@/modules/auth/service";
import { treeData } from "@/modules/driver-tree/data";
import { insertPolicies, insertStructure, insertTree } from "@/modules/driver-tree/repository";
import { importFormulas } from "@/modules/driver-tree/service";
import type { ProjectAccess } from "@/modules/project/access";
import { measure, measureAsync } from "./measure";

/* Deterministic PRNG (mulberry32) so every run measures the same tree. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generateTree(nodeCount: number, periods: string[], policyCount: number): EvalInput {
  const rand = rng(42);
  const nodes: EvalNode[] = [];
  const relationships: TreeRelationship[] = [];
  const ops: TreeOperator[] = ["+", "-", "*", "/"];
  // Breadth-first: node i's children are the next unassigned ids, 2–4 per calculation node,
  // which gives a tree of depth ~7; a few extra edges make it a DAG.
  let next = 1;
  const types: TreeNodeType[] = new Array(nodeCount).fill("input");
  for (let i = 0; i < nodeCount && next < nodeCount; i++) {
    const k = Math.min(2 + Math.floor(rand() * 3), nodeCount - next);
    types[i] = "calculation";
    const childIds: string[] = [];
    for (let j = 0; j < k; j++) childIds.push(`n${next++}`);
    if (i > 0 && rand() < 0.05) {
      const extra = `n${next + Math.floor(rand() * (nodeCount - next))}`;
      if (extra !== `n${nodeCount}` && !childIds.includes(extra) && Number(extra.slice(1)) < nodeCount)
        childIds.push(extra);
    }
    relationships.push({ parentId: `n${i}`, operator: ops[Math.floor(rand() * 4)], childIds });
  }
  for (let i = 0; i < nodeCount; i++) {
    const type = types[i] === "calculation" ? "calculation" : rand() < 0.1 ? "constant" : "input";
    const node: EvalNode = {
      id: `n${i}`,
      label: `項目${i}`,
      nodeType: type,
      value: type === "calculation" ? null : 1 + rand(),
    };
    if (type === "input" && rand() < 0.8) {
      const series: Record<string, number | null> = {};
      for (const p of periods) series[p] = 1 + rand() * 100;
      node.series = series;
    }
    nodes.push(node);
  }
  const kinds = ["percent", "factor", "absolute"] as const;
  const policies: EvalPolicy[] = Array.from({ length: policyCount }, (_, i) => ({
    id: `p${i}`,
    nodeId: `n${Math.floor(rand() * nodeCount)}`,
    value: 1 + rand() * 5,
    valueKind: kinds[i % 3],
    startPeriod: rand() < 0.3 ? periods[Math.floor(rand() * periods.length)] : null,
    cost: Math.round(rand() * 1_000_000),
  }));
  return { periods, rootId: "n0", nodes, relationships, policies, withPolicies: true };
}

/* 200 formulas: a KPI decomposed level by level, with precedence and parentheses. */
function generateFormulas(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const a = `指標${2 * i + 1}`;
    const b = `指標${2 * i + 2}`;
    const shape = i % 4;
    out.push(
      shape === 0
        ? `指標${i} = ${a} * ${b}`
        : shape === 1
          ? `指標${i} = ${a} + ${b} - 係数${i} * 5%`
          : shape === 2
            ? `指標${i} = (${a} - ${b}) / 期間${i}`
            : `指標${i} = ${a} * (1 + ${b})`,
    );
  }
  return out;
}

const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
const periods = Array.from({ length: 24 }, (_, i) =>
  `2024-${String((i % 12) + 1).padStart(2, "0")}-01`.replace("2024", String(2024 + Math.floor(i / 12))),
);
const input = generateTree(10_000, periods, 500);
const formulas = generateFormulas(200);
let seq = 0;
const newId = () => `x${++seq}`;
const empty: TreeState = { rootId: null, nodes: [], relationships: [] };
const bigTree: TreeState = {
  rootId: "n0",
  nodes: input.nodes.map((n) => ({
    id: n.id,
    label: n.label,
    nodeType: n.nodeType,
    positionX: 0,
    positionY: 0,
  })),
  relationships: input.relationships,
};

const check = evaluateTree(input);
const firstPlan = planImport(empty, formulas, { newId });
if (!firstPlan.ok) throw new Error(`generated formulas refused: ${JSON.stringify(firstPlan).slice(0, 500)}`);
const importedNodes = applyImportPlan(empty, firstPlan).nodes.length;

const results = [
  measure("E1 evaluate 10,000 nodes × 24 periods, 500 policies", () => evaluateTree(input)),
  measure("E1j evaluate + JSON.stringify", () => JSON.stringify(evaluateTree(input))),
  measure("E1b evaluate without policies", () => evaluateTree({ ...input, withPolicies: false })),
  measure("I1 plan import of 200 formulas (empty tree)", () => planImport(empty, formulas, { newId })),
  measure("I2 plan import of 200 formulas into the 10,000-node tree", () =>
    planImport(bigTree, formulas, { newId }),
  ),
];
/* ---------- service level, through the database ---------- */

const databaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
const config = configFrom({
  ENVIRONMENT: "development",
  DATABASE_URL: databaseUrl,
  PGLITE_DIR: "memory://",
  LOG_LEVEL: "silent",
});
const handle = await openDatabase(config);
await migrateUp(handle, migrationsDir(config));
const db = handle.db;
const projectId = uuid();
await handle.raw.query("insert into project (id, name, code) values ($1, 'bench', $2)", [
  projectId,
  `BENCH-DT-${projectId.slice(-8)}`,
]);
const service = await (async () => {
  // The 10,000-node tree with stored ids; inputs carry manual values (bound series are part 2).
  const ids = new Map(input.nodes.map((n) => [n.id, uuid()]));
  const id = (x: string) => ids.get(x) as string;
  const tree = await db.transaction(async (tx) => {
    const t = await insertTree(tx, { projectId, name: "bench 10k", createdBy: null });
    await insertStructure(tx, t.id, {
      rootId: id(input.rootId as string),
      nodes: input.nodes.map((n, i) => ({
        id: id(n.id),
        label: n.label,
        nodeType: n.nodeType,
        positionX: i,
        positionY: 0,
        value: n.nodeType === "calculation" ? null : (n.value ?? 1),
      })),
      relationships: input.relationships.map((r) => ({
        ...r,
        parentId: id(r.parentId),
        childIds: r.childIds.map(id),
      })),
    });
    await insertPolicies(
      tx,
      input.policies.map((p, i) => ({
        id: uuid(),
        nodeId: id(p.nodeId),
        label: `施策${i}`,
        value: p.value,
        valueKind: p.valueKind,
        description: null,
        cost: p.cost,
        durationMonths: null,
        startPeriod: null,
        status: "planned",
        createdBy: null,
      })),
    );
    return t;
  });
  const stored = await treeData(db, projectId, tree.id, true);
  const deps = {
    db,
    actor: { userId: null, email: null, ip: null, userAgent: null, requestId: null },
  };
  const caller = { user: { id: uuid() } } as unknown as Caller;
  const access = {
    project: { id: projectId, code: "BENCH", name: "bench", isActive: true },
    role: "project_manager",
    isMember: false,
    viaSystemAdmin: false,
  } satisfies ProjectAccess;
  const s1 = await measureAsync("S1 service …/data: 10,000 stored nodes, 500 policies, + JSON", async () =>
    JSON.stringify(await treeData(db, projectId, tree.id, true)),
  );
  const s1b = await measureAsync("S1b service …/data without policies, + JSON", async () =>
    JSON.stringify(await treeData(db, projectId, tree.id, false)),
  );
  // Each run imports into a fresh empty tree (created outside the timing).
  const empties: string[] = [];
  for (let i = 0; i < 11; i++)
    empties.push((await insertTree(db, { projectId, name: `import ${i}`, createdBy: null })).id);
  let importedCount = 0;
  const s2 = await measureAsync(
    "S2 service …/import of 200 formulas into an empty stored tree",
    async () => {
      const detail = await importFormulas(deps, caller, access, empties.shift() as string, { formulas });
      importedCount = detail.nodes.length;
    },
    2,
    9,
  );
  await handle.raw.query("delete from project where id = $1", [projectId]);
  await handle.close();
  return {
    database: databaseUrl ? "postgresql" : "pglite (memory)",
    storedRootSimulated: stored.summary.rootSimulated,
    storedNodes: stored.calculatedDataList.length,
    importedNodes: importedCount,
    results: [s1, s1b, s2],
  };
})();

const report = {
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  bun: Bun.version,
  loadAverage: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100) },
  shape: {
    nodes: input.nodes.length,
    relationships: input.relationships.length,
    periods: periods.length,
    policies: input.policies.length,
    rootSimulated: check.summary.rootSimulated,
    formulas: formulas.length,
    importedNodes,
  },
  targets: { E1: 100, I1: 300, S1: 100, S2: 300 },
  results,
  service,
};
console.log(JSON.stringify(report, null, 2));
if (process.argv.includes("--write")) {
  const dir = join(import.meta.dir, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${report.date.slice(0, 10)}-${hostname()}-driver-tree.json`),
    `${JSON.stringify(report, null, 2)}\n`,
  );
}
