/*
 * The layer rules of README "Layout", checked on every `bun run check`:
 *   1. Domain code under src/modules/ (everything but the controllers `index.ts`, `model.ts` and
 *      route files) imports neither Elysia nor the HTTP edge (`@/plugins/*`, `@/http/*`).
 *   2. src/lib/ (adapters) imports no module, plugin, HTTP or database code.
 *   3. src/engine/ is pure: it imports only itself and a short list of pure packages.
 *   4. Outside src/engine/ the engine is reached through `@/engine` (its index) only; white-box
 *      tests (`*.test.ts`) may reach inside.
 *   5. No SQL at the edge: plugins and lib import neither drizzle-orm nor the schema.
 *   6. SQL only in queries files: under src/modules/ only `queries.ts`, `repository.ts` and
 *      `*-queries.ts` (and tests) import drizzle-orm or values from `@/db/schema`; services,
 *      controllers and the rest take rows through those files' functions (type-only schema
 *      imports are fine: they vanish at compile time).
 * Imports are read with TypeScript's pre-processor, so type-only and dynamic imports count too,
 * and relative paths are resolved, so `../../engine/frame` is caught like `@/engine/frame`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

export type Violation = { file: string; spec: string; rule: string };

/*
 * Known violations, each "<file> -> <import>" with a comment saying why it stands (none today). An
 * entry that no longer matches anything fails the check, so the list can only shrink.
 */
export const ALLOWED: readonly string[] = [];

const ENGINE_PACKAGES = new Set(["node:zlib", "iconv-lite", "saxes"]);
const ENGINE_TEST_PACKAGES = new Set(["bun:test", "fast-check", "exceljs"]);
const HTTP_EDGE = /^(elysia|@elysiajs\/.*|src\/plugins(\/.*)?|src\/http(\/.*)?)$/;
const CONTROLLER = /(^|\/)(index|model)\.ts$|(^|\/)routes\/|[.-]routes?\.ts$|(^|\/)controller[^/]*\.ts$/;

/* Repository-relative target of an import: `src/…` for local files, the bare name otherwise. */
function target(file: string, spec: string): string {
  if (spec.startsWith("@/")) return join("src", spec.slice(2));
  if (spec.startsWith(".")) return relative(process.cwd(), resolve(dirname(file), spec));
  return spec;
}

const isTest = (file: string) => file.endsWith(".test.ts");
const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
const stripExt = (p: string) => p.replace(/\.(ts|js)$/, "");

export function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/*
 * Specifiers every import of which is type-only (`import type …`, `import { type a }`,
 * `export type … from`); a dynamic import or a value binding makes the specifier a value import.
 */
export function typeOnlyImportsOf(text: string): Set<string> {
  const source = ts.createSourceFile("x.ts", text, ts.ScriptTarget.Latest, false);
  const declared = new Map<string, { all: number; typeOnly: number }>();
  for (const st of source.statements) {
    if (!(ts.isImportDeclaration(st) || ts.isExportDeclaration(st))) continue;
    if (!st.moduleSpecifier || !ts.isStringLiteral(st.moduleSpecifier)) continue;
    let typeOnly: boolean;
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      const named = clause?.namedBindings;
      typeOnly =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name &&
            !!named &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((e) => e.isTypeOnly)));
    } else {
      const named = st.exportClause;
      typeOnly =
        st.isTypeOnly ||
        (!!named &&
          ts.isNamedExports(named) &&
          named.elements.length > 0 &&
          named.elements.every((e) => e.isTypeOnly));
    }
    const d = declared.get(st.moduleSpecifier.text) ?? { all: 0, typeOnly: 0 };
    declared.set(st.moduleSpecifier.text, { all: d.all + 1, typeOnly: d.typeOnly + (typeOnly ? 1 : 0) });
  }
  const occurrences = new Map<string, number>();
  for (const spec of importsOf(text)) occurrences.set(spec, (occurrences.get(spec) ?? 0) + 1);
  return new Set(
    [...declared]
      .filter(([spec, d]) => d.typeOnly === d.all && occurrences.get(spec) === d.all)
      .map(([s]) => s),
  );
}

const QUERIES_FILE = /(^|\/)(queries|repository)\.ts$|-queries\.ts$/;
const isDrizzle = (to: string) => to === "drizzle-orm" || to.startsWith("drizzle-orm/");

export function check(file: string, text: string): Violation[] {
  const out: Violation[] = [];
  let typeOnly: Set<string> | undefined;
  for (const spec of importsOf(text)) {
    const to = stripExt(target(file, spec));
    const add = (rule: string) => out.push({ file, spec, rule });
    if (under(file, "src/modules") && !CONTROLLER.test(file) && HTTP_EDGE.test(to))
      add("domain code under src/modules must not import Elysia or the HTTP edge");
    if (
      under(file, "src/lib") &&
      ["src/modules", "src/plugins", "src/http", "src/db"].some((d) => under(to, d))
    )
      add("src/lib must not import modules, plugins, HTTP or database code");
    const sqlImport = isDrizzle(to) || under(to, "src/db/schema");
    if ((under(file, "src/plugins") || under(file, "src/lib")) && !isTest(file) && sqlImport)
      add("plugins and lib run no SQL: move the query into the module");
    if (under(file, "src/modules") && !isTest(file) && !QUERIES_FILE.test(file) && sqlImport) {
      typeOnly ??= typeOnlyImportsOf(text);
      if (isDrizzle(to) || !typeOnly.has(spec))
        add("SQL only in queries files: move the query into the module's queries.ts (or repository.ts)");
    }
    if (under(file, "src/engine")) {
      const pure =
        under(to, "src/engine") ||
        ENGINE_PACKAGES.has(to) ||
        (isTest(file) && (ENGINE_TEST_PACKAGES.has(to) || under(to, "tests/fixtures")));
      if (!pure) add("src/engine must stay pure (no I/O, no code outside the engine)");
    } else if (!isTest(file) && under(to, "src/engine") && to !== "src/engine" && to !== "src/engine/index") {
      add("import the engine through @/engine, not its internals");
    }
  }
  return out;
}

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && entry.name !== "results") yield* sources(path);
    } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) yield path;
  }
}

export function checkTree(roots: string[] = ["src", "tests", "bench", "scripts"]): {
  violations: Violation[];
  staleAllowances: string[];
} {
  const found = roots.flatMap((root) => [...sources(root)].flatMap((f) => check(f, readFileSync(f, "utf8"))));
  const key = (v: Violation) => `${v.file} -> ${v.spec}`;
  const allowed = new Set(ALLOWED);
  const seen = new Set(found.map(key));
  return {
    violations: found.filter((v) => !allowed.has(key(v))),
    staleAllowances: ALLOWED.filter((a) => !seen.has(a)),
  };
}

if (import.meta.main) {
  const { violations, staleAllowances } = checkTree();
  for (const v of violations) console.error(`${v.file}: ${v.spec} — ${v.rule}`);
  for (const a of staleAllowances)
    console.error(`scripts/check-imports.ts: stale allowance "${a}", remove it`);
  if (violations.length || staleAllowances.length) process.exit(1);
  console.log("import rules: ok");
}
