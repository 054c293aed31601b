import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { LocalStorage } from "@/lib/storage";
import { migrateLocalLayout } from "@/lib/storage/layout-migration";

/*
 * Issue #19 item 3: a fresh install writes the seed's layout (infrastructure design §5.2), and a
 * store written in the old folder-per-container form is moved into it: dry run first, idempotent.
 */

const MAIN = resolve(import.meta.dir, "../src/cli/main.ts");

function oldStore(): string {
  const root = mkdtempSync(join(tmpdir(), "camp-layout-"));
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  put("uploads/projects/p1/f1_sales.csv", "a,b\n1,2\n");
  put("uploads/projects/p1/f2_plan.xlsx", "xlsx");
  put("uploads/temp/u1_temp.tmp", "partial upload");
  put("uploads/misc/note.txt", "other key");
  put("analysis/analysis/s1/snapshot_20260101T000000000Z.json", "{}");
  put("analysis/analysis/s1/graph_g1.png", "png");
  put("public/logo.png", "logo");
  return root;
}

const text = async (s: LocalStorage, container: "uploads" | "analysis" | "public", key: string) =>
  new Response((await s.get(container, key)).stream).text();

describe("local storage layout", () => {
  test("a fresh store writes uploads/projects, uploads/analysis, uploads/temp — no doubled folder", async () => {
    const root = mkdtempSync(join(tmpdir(), "camp-layout-"));
    const s = new LocalStorage({ root, fsync: false });
    await s.init();
    expect(readdirSync(root).sort()).toEqual(["analysis", "projects", "temp"]);
    await s.put("uploads", "projects/p/f_a.csv", "x");
    await s.put("analysis", "analysis/s/graph_g.png", "png");
    expect(existsSync(join(root, "projects", "p", "f_a.csv"))).toBe(true);
    expect(existsSync(join(root, "analysis", "s", "graph_g.png"))).toBe(true);
    expect(readdirSync(root).sort()).toEqual(["analysis", "projects", "temp"]);
  });

  test("dry run plans every move and changes nothing", async () => {
    const root = oldStore();
    const before = readdirSync(join(root, "uploads")).sort();
    const report = await migrateLocalLayout(root, { apply: false });
    expect(report.moves.map((m) => `${m.from} -> ${m.to}`).sort()).toEqual([
      "analysis/analysis/s1/graph_g1.png -> analysis/s1/graph_g1.png",
      "analysis/analysis/s1/snapshot_20260101T000000000Z.json -> analysis/s1/snapshot_20260101T000000000Z.json",
      "uploads/misc/note.txt -> .uploads/misc/note.txt",
      "uploads/projects/p1/f1_sales.csv -> projects/p1/f1_sales.csv",
      "uploads/projects/p1/f2_plan.xlsx -> projects/p1/f2_plan.xlsx",
      "uploads/temp/u1_temp.tmp -> temp/u1_temp.tmp",
    ]);
    expect(readdirSync(join(root, "uploads")).sort()).toEqual(before);
    expect(existsSync(join(root, "projects"))).toBe(false);
  });

  test("apply moves every object where the storage reads it; a second run finds nothing", async () => {
    const root = oldStore();
    const first = await migrateLocalLayout(root, { apply: true });
    expect(first.moves).toHaveLength(6);
    expect(first.conflicts).toEqual([]);
    expect(existsSync(join(root, "uploads"))).toBe(false);
    expect(existsSync(join(root, "analysis", "analysis"))).toBe(false);

    const s = new LocalStorage({ root, fsync: false });
    expect(await text(s, "uploads", "projects/p1/f1_sales.csv")).toBe("a,b\n1,2\n");
    expect(await text(s, "uploads", "temp/u1_temp.tmp")).toBe("partial upload");
    expect(await text(s, "uploads", "misc/note.txt")).toBe("other key");
    expect(await text(s, "analysis", "analysis/s1/graph_g1.png")).toBe("png");
    expect(await text(s, "public", "logo.png")).toBe("logo");
    expect(await s.deleteByPrefix("uploads", "projects/p1/")).toBe(2);

    const again = await migrateLocalLayout(root, { apply: true });
    expect(again).toEqual({ moves: [], duplicates: [], conflicts: [], skipped: [] });
  });

  test("an interrupted run resumes: same bytes at the new place drop the old copy; different bytes are a conflict", async () => {
    const root = oldStore();
    mkdirSync(join(root, "projects", "p1"), { recursive: true });
    writeFileSync(join(root, "projects", "p1", "f1_sales.csv"), "a,b\n1,2\n");
    writeFileSync(join(root, "projects", "p1", "f2_plan.xlsx"), "a different object");
    const report = await migrateLocalLayout(root, { apply: true });
    expect(report.duplicates.map((m) => m.key)).toEqual(["projects/p1/f1_sales.csv"]);
    expect(report.conflicts.map((m) => m.key)).toEqual(["projects/p1/f2_plan.xlsx"]);
    expect(existsSync(join(root, "uploads", "projects", "p1", "f1_sales.csv"))).toBe(false);
    // Both versions of the conflicting object are kept for the operator to decide.
    expect(await Bun.file(join(root, "uploads", "projects", "p1", "f2_plan.xlsx")).text()).toBe("xlsx");
    expect(await Bun.file(join(root, "projects", "p1", "f2_plan.xlsx")).text()).toBe("a different object");
  });

  test("the CLI subcommand: dry run by default, --apply moves, a rerun finds nothing", async () => {
    const root = oldStore();
    const cli = async (...args: string[]) => {
      const proc = Bun.spawn(["bun", MAIN, "storage-layout", ...args], {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "/tmp",
          ENVIRONMENT: "development",
          LOCAL_STORAGE_PATH: root,
          LOG_LEVEL: "silent",
        },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      return { out, code };
    };
    const dry = await cli();
    expect(dry.code).toBe(0);
    expect(dry.out).toContain("would move uploads/projects/p1/f1_sales.csv -> projects/p1/f1_sales.csv");
    expect(dry.out).toContain("dry run: 6 to move");
    expect(existsSync(join(root, "uploads"))).toBe(true);
    const applied = await cli("--apply");
    expect(applied.code).toBe(0);
    expect(applied.out).toContain("6 to move, 0 duplicates, 0 conflicts");
    expect(existsSync(join(root, "projects", "p1", "f1_sales.csv"))).toBe(true);
    expect((await cli("--apply")).out).toContain("0 to move");
  });
});
