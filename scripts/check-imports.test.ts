import { describe, expect, test } from "bun:test";
import { check, checkTree } from "./check-imports";

const rules = (file: string, text: string) => check(file, text).map((v) => v.rule);

describe("import rules", () => {
  test("the repository passes, with no stale allowances", () => {
    expect(checkTree()).toEqual({ violations: [], staleAllowances: [] });
  });

  test("a service importing a plugin (even type-only) or Elysia fails; controllers may", () => {
    const svc = `import type { ProjectAccess } from "@/plugins/project-access";\nimport { t } from "elysia";`;
    expect(rules("src/modules/file/service.ts", svc)).toHaveLength(2);
    expect(rules("src/modules/file/queries.ts", `import { x } from "../../http/range";`)).toHaveLength(1);
    expect(rules("src/modules/file/index.ts", svc)).toEqual([]);
    expect(rules("src/modules/file/model.ts", svc)).toEqual([]);
  });

  test("lib importing modules, plugins or db fails", () => {
    for (const spec of ["@/modules/project/access", "@/db/schema", "../plugins/auth", "@/db/queries/audit"])
      expect(rules("src/lib/storage-thing.ts", `import { a } from "${spec}";`).length).toBeGreaterThanOrEqual(
        1,
      );
    expect(rules("src/lib/chart-render/index.ts", `import { a } from "@/engine";`)).toEqual([]);
  });

  test("the engine importing I/O or outer layers fails", () => {
    for (const spec of ["node:fs", "@/db/client", "@/lib/storage", "@/modules/x", "@/config", "postgres"])
      expect(rules("src/engine/parse/x.ts", `import a from "${spec}";`)).toHaveLength(1);
    expect(rules("src/engine/parse/x.ts", `const z = await import("node:fs/promises");`)).toHaveLength(1);
    expect(rules("src/engine/parse/x.ts", `import { inflateRawSync } from "node:zlib";`)).toEqual([]);
    expect(rules("src/engine/parse/x.test.ts", `import fc from "fast-check";`)).toEqual([]);
    expect(rules("src/engine/parse/x.ts", `import fc from "fast-check";`)).toHaveLength(1);
  });

  test("engine internals outside the engine fail; the index and white-box tests pass", () => {
    expect(rules("src/modules/a/service.ts", `import { frameBytes } from "@/engine/frame";`)).toHaveLength(1);
    expect(rules("bench/x.ts", `import { a } from "../src/engine/contract";`)).toHaveLength(1);
    expect(rules("src/modules/a/service.ts", `import { frameBytes } from "@/engine";`)).toEqual([]);
    expect(rules("src/lib/a.test.ts", `import { buildChart } from "@/engine/steps/chart";`)).toEqual([]);
  });

  test("drizzle or the schema in a controller, plugin or lib file fails; in queries it passes", () => {
    const sqlImport = `import { eq } from "drizzle-orm";\nimport { project } from "@/db/schema";`;
    expect(rules("src/modules/file/index.ts", sqlImport)).toHaveLength(2);
    expect(rules("src/plugins/auth.ts", sqlImport)).toHaveLength(2);
    expect(rules("src/lib/rate-limit.ts", `import { sql } from "drizzle-orm/sql";`)).toHaveLength(1);
    expect(rules("src/modules/file/queries.ts", sqlImport)).toEqual([]);
  });

  test("under src/modules only queries and repository files import drizzle or schema values", () => {
    const sqlImport = `import { eq } from "drizzle-orm";\nimport { project } from "@/db/schema";`;
    for (const file of [
      "src/modules/file/service.ts",
      "src/modules/admin-analysis-master/crud.ts",
      "src/modules/analysis-catalogue/seed.ts",
      "src/modules/file/model.ts",
    ])
      expect(rules(file, sqlImport)).toHaveLength(2);
    for (const file of [
      "src/modules/file/queries.ts",
      "src/modules/analysis-session/repository.ts",
      "src/modules/analysis-catalogue/seed-queries.ts",
      "src/modules/file/service.test.ts",
    ])
      expect(rules(file, sqlImport)).toEqual([]);
    // A relative path to the schema is the same import.
    expect(rules("src/modules/file/service.ts", `import { project } from "../../db/schema";`)).toHaveLength(
      1,
    );
    // Drizzle is refused even type-only; the dynamic form of a schema import is a value import.
    expect(rules("src/modules/file/service.ts", `import type { SQL } from "drizzle-orm";`)).toHaveLength(1);
    expect(rules("src/modules/file/service.ts", `const s = await import("@/db/schema");`)).toHaveLength(1);
    expect(rules("src/modules/file/service.ts", `export { project } from "@/db/schema";`)).toHaveLength(1);
    // Row types from the schema are fine: they vanish at compile time.
    for (const typeOnly of [
      `import type { projectFile } from "@/db/schema";`,
      `import { type projectFile, type project } from "@/db/schema";`,
      `export type { projectFile } from "@/db/schema";`,
    ])
      expect(rules("src/modules/file/service.ts", typeOnly)).toEqual([]);
    // One value binding beside the types makes it a value import.
    expect(
      rules("src/modules/file/service.ts", `import { type projectFile, project } from "@/db/schema";`),
    ).toHaveLength(1);
    const mixed = `import type { projectFile } from "@/db/schema";\nimport { project } from "@/db/schema";`;
    expect(rules("src/modules/file/service.ts", mixed).length).toBeGreaterThan(0);
  });
});
