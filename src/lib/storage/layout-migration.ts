import { lstat, mkdir, readdir, rename, rmdir, unlink } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { TEMP_MARKER } from "./common";
import { layoutSegments } from "./local";
import type { Container } from "./types";

/*
 * Moves a local store written in the old folder-per-container form (`uploads/uploads/projects/…`,
 * `uploads/analysis/analysis/…`) into the seed's layout (`uploads/projects/…`,
 * `uploads/analysis/…`, `uploads/temp/…`; see local.ts). A dry run only plans. Idempotent: a
 * second run finds nothing to move; an object already at its new place with identical bytes has
 * its old copy removed; different bytes at the new place are a conflict, and both are left alone.
 * Only `<root>/uploads/**` and `<root>/analysis/analysis/**` are old-form paths; nothing else is
 * touched. Stop the server first: a write racing the move could land in the old place.
 */

export type LayoutMove = { container: Container; key: string; from: string; to: string };

export type LayoutReport = {
  /** Moves done (apply) or that would be done (dry run); paths relative to the root. */
  moves: LayoutMove[];
  /** Old copies removed because the new place already held the same bytes. */
  duplicates: LayoutMove[];
  /** Different bytes at the new place: nothing was changed for these. */
  conflicts: LayoutMove[];
  /** Not regular files (links) or interrupted writes (temp files): left where they are. */
  skipped: string[];
};

/* Old-form folders and the container and key prefix their files stand for. */
const OLD_FORM: { dir: string[]; container: Container; keyPrefix: string }[] = [
  { dir: ["uploads"], container: "uploads", keyPrefix: "" },
  { dir: ["analysis", "analysis"], container: "analysis", keyPrefix: "analysis/" },
];

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [fa, fb] = [Bun.file(a), Bun.file(b)];
  if (fa.size !== fb.size) return false;
  const hash = async (f: ReturnType<typeof Bun.file>) =>
    new Bun.CryptoHasher("sha256").update(await f.arrayBuffer()).digest("hex");
  return (await hash(fa)) === (await hash(fb));
}

async function* files(dir: string): AsyncGenerator<{ path: string; regular: boolean }> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return;
    throw err;
  }
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) yield* files(full);
    else yield { path: full, regular: e.isFile() };
  }
}

/* Removes the now-empty folders of an old-form tree, deepest first; stops at `stop`. */
async function prune(dir: string, stop: string): Promise<void> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await prune(join(dir, e.name), stop);
  if (dir !== stop) await rmdir(dir).catch(() => undefined);
}

export async function migrateLocalLayout(
  rootPath: string,
  options: { apply: boolean },
): Promise<LayoutReport> {
  const root = resolve(rootPath);
  const report: LayoutReport = { moves: [], duplicates: [], conflicts: [], skipped: [] };
  const rel = (p: string) => relative(root, p).split(sep).join("/");
  for (const form of OLD_FORM) {
    const base = join(root, ...form.dir);
    if (
      !(await lstat(base).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      continue;
    for await (const file of files(base)) {
      const key = form.keyPrefix + relative(base, file.path).split(sep).join("/");
      const name = file.path.slice(file.path.lastIndexOf(sep) + 1);
      if (!file.regular || name.startsWith(TEMP_MARKER)) {
        report.skipped.push(rel(file.path));
        continue;
      }
      const target = join(root, ...layoutSegments(form.container, key));
      const move: LayoutMove = { container: form.container, key, from: rel(file.path), to: rel(target) };
      const existing = await lstat(target).catch(() => null);
      if (existing) {
        if (existing.isFile() && (await sameBytes(file.path, target))) {
          report.duplicates.push(move);
          if (options.apply) await unlink(file.path);
        } else {
          report.conflicts.push(move);
        }
        continue;
      }
      report.moves.push(move);
      if (options.apply) {
        await mkdir(dirname(target), { recursive: true });
        await rename(file.path, target);
      }
    }
    // Empty old-form folders go too (`<root>/uploads`, `<root>/analysis/analysis`).
    if (options.apply) await prune(base, root);
  }
  return report;
}
