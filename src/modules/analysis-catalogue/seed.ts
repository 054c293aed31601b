import type { Database, Tx } from "@/db/client";
import { canonicalJson, sha256Hex } from "@/engine";
import { issueChildren } from "./queries";
import {
  archiveIfActive,
  findIssueRow,
  findTheme,
  insertTheme,
  issueNamedOtherThan,
  lockCatalogueSeed,
  saveSeedState as saveState,
  seedStatesWithPrefixes,
  type ThemeRow,
  themeNamedOtherThan,
  themesByIds,
  updateTheme,
  writeIssue,
} from "./seed-queries";
import {
  ISSUE_PREFIX,
  type IssueState,
  type PreparedSet,
  readAnalysisSeed,
  type SeedProblem,
  SeedSetInvalidError,
  THEME_PREFIX,
  type ThemeState,
  uuidv5,
} from "./seed-read";

export {
  type PreparedSet,
  readAnalysisSeed,
  recipeProblems,
  SEED_NAMESPACE,
  type SeedProblem,
  SeedSetInvalidError,
  uuidv5,
} from "./seed-read";

/*
 * Loader of the shipped analysis catalogue (analysis.md §6.3–6.4). A set is read and validated
 * completely — including a replay of every preview pipeline with the real engine — before the
 * database is touched, then written in one transaction under an advisory lock. `seed_state`
 * remembers, per item, the hash of what the files asked for and the hash of the rows as written,
 * so a re-run can tell "nothing to do" from "the source changed" from "an admin edited the row".
 */

/** contentHash of an item archived because its source disappeared. */
const ARCHIVED = "archived";

export type SeedCounts = {
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  archived: number;
};
export type SkippedItem = { seedKey: string; file: string; message: string };
export type CatalogueSeedReport = SeedCounts & {
  themes: SeedCounts;
  issues: SeedCounts;
  /** Items left alone because they were edited or deleted since the last seed (use force). */
  problems?: SkippedItem[];
};

type SeedLogger = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
export type SeedOptions = { dir: string; force?: boolean; logger?: SeedLogger };

export const hashOf = (state: unknown) => sha256Hex(canonicalJson(state));

/* ---------- writing ---------- */

const themeStateOf = (r: ThemeRow): ThemeState => ({
  name: r.name,
  validationOrder: r.validationOrder,
  isActive: r.isActive,
});

async function issueStateOf(tx: Tx, id: string): Promise<IssueState | null> {
  const r = await findIssueRow(tx, id);
  if (!r) return null;
  const { axes, formulas, charts } = await issueChildren(tx, id);
  const byId = <T extends { id: string }>(a: T[]) => [...a].sort((x, y) => (x.id < y.id ? -1 : 1));
  return {
    validationId: r.validationId,
    name: r.name,
    description: r.description,
    agentPrompt: r.agentPrompt,
    initialMsg: r.initialMsg,
    dummyHint: r.dummyHint,
    dummyInput: r.dummyInput,
    issueOrder: r.issueOrder,
    isActive: r.isActive,
    axes: byId(axes).map((a) => ({
      id: a.id,
      name: a.name,
      option: a.option,
      multiple: a.multiple,
      axisOrder: a.axisOrder,
    })),
    formulas: byId(formulas).map((f) => ({
      id: f.id,
      name: f.name,
      value: f.value,
      formulaOrder: f.formulaOrder,
    })),
    charts: byId(charts).map((c) => ({ id: c.id, chart: c.chart, chartOrder: c.chartOrder })),
  };
}

const sortedState = (s: IssueState): IssueState => {
  const byId = <T extends { id: string }>(a: T[]) => [...a].sort((x, y) => (x.id < y.id ? -1 : 1));
  return { ...s, axes: byId(s.axes), formulas: byId(s.formulas), charts: byId(s.charts) };
};

export const zero = (): SeedCounts => ({ created: 0, updated: 0, unchanged: 0, skipped: 0, archived: 0 });

export type Decision = "create" | "update" | "unchanged" | "skip";

/** The rule of §6.4: an edited (or deleted) row wins over the files unless forced. */
export function decide(
  stored: { contentHash: string | null; rowHash: string | null } | undefined,
  current: unknown | null,
  desiredHash: string,
  force: boolean,
): Decision {
  if (!stored) {
    if (current === null) return "create";
    if (hashOf(current) === desiredHash) return "unchanged";
    return force ? "update" : "skip";
  }
  const drifted = current === null || hashOf(current) !== stored.rowHash;
  if (drifted && !force) return "skip";
  if (current === null) return "create";
  if (!drifted && stored.contentHash === desiredHash) return "unchanged";
  return "update";
}

async function nameConflicts(tx: Tx, set: PreparedSet): Promise<SeedProblem[]> {
  const out: SeedProblem[] = [];
  for (const t of set.themes) {
    const c = await themeNamedOtherThan(tx, t.state.name, t.id);
    if (c)
      out.push({ file: t.file, field: "name", message: `${t.state.name} is already used by theme ${c}` });
  }
  for (const i of set.issues) {
    const c = await issueNamedOtherThan(tx, i.state.validationId, i.state.name, i.id);
    if (c)
      out.push({ file: i.file, field: "name", message: `${i.state.name} is already used by issue ${c}` });
  }
  return out;
}

/**
 * Loads the analysis catalogue set in `dir` (themes.yaml, issues/, samples/). Throws
 * SeedSetInvalidError before writing anything when the set does not validate.
 */
export async function seedAnalysisCatalogue(
  db: Database,
  options: SeedOptions,
): Promise<CatalogueSeedReport> {
  const set = readAnalysisSeed(options.dir);
  const force = options.force ?? false;
  const themes = zero();
  const issues = zero();
  const skipped: SkippedItem[] = [];

  await db.transaction(async (tx) => {
    await lockCatalogueSeed(tx);
    const conflicts = await nameConflicts(tx, set);
    if (conflicts.length) throw new SeedSetInvalidError(options.dir, conflicts);
    const states = new Map(
      (await seedStatesWithPrefixes(tx, [THEME_PREFIX, ISSUE_PREFIX])).map((s) => [s.seedKey, s]),
    );
    const themeRows = new Map(
      (
        await themesByIds(
          tx,
          set.themes.map((t) => t.id),
        )
      ).map((r) => [r.id, r]),
    );

    for (const t of set.themes) {
      const row = themeRows.get(t.id);
      const current = row ? themeStateOf(row) : null;
      const desired = hashOf(t.state);
      let d = decide(states.get(t.seedKey), current, desired, force);
      // Issues need their theme row: a theme deleted by hand is recreated.
      if (d === "skip" && current === null) d = "create";
      if (d === "skip") {
        themes.skipped++;
        skipped.push({
          seedKey: t.seedKey,
          file: t.file,
          message: `theme ${t.state.name} was edited since the last seed`,
        });
        continue;
      }
      if (d === "unchanged") {
        themes.unchanged++;
        if (!states.has(t.seedKey)) await saveState(tx, t.seedKey, desired, hashOf(current));
        continue;
      }
      if (d === "create") {
        await insertTheme(tx, t.id, t.state);
        themes.created++;
      } else {
        await updateTheme(tx, t.id, t.state);
        themes.updated++;
      }
      const after = await findTheme(tx, t.id);
      await saveState(tx, t.seedKey, desired, hashOf(after ? themeStateOf(after) : null));
    }

    for (const i of set.issues) {
      const current = await issueStateOf(tx, i.id);
      const desired = hashOf(sortedState(i.state));
      const stored = states.get(i.seedKey);
      const d = decide(stored, current, desired, force);
      if (d === "skip") {
        issues.skipped++;
        skipped.push({
          seedKey: i.seedKey,
          file: i.file,
          message: `issue ${i.state.name} was ${current ? "edited" : "deleted"} since the last seed; run with --force to restore it`,
        });
        continue;
      }
      if (d === "unchanged") {
        issues.unchanged++;
        if (!stored) await saveState(tx, i.seedKey, desired, hashOf(current));
        continue;
      }
      await writeIssue(tx, i.id, i.state, current !== null);
      if (d === "create") issues.created++;
      else issues.updated++;
      await saveState(tx, i.seedKey, desired, hashOf(await issueStateOf(tx, i.id)));
    }

    // Removed from the files: archive (sessions reference these rows), never delete.
    const now = new Date();
    const present = new Set([...set.themes, ...set.issues].map((x) => x.seedKey));
    const gone = [...states.values()].filter((s) => !present.has(s.seedKey) && s.contentHash !== ARCHIVED);
    for (const s of gone.filter((g) => g.seedKey.startsWith(ISSUE_PREFIX))) {
      const id = uuidv5(s.seedKey);
      if (await archiveIfActive(tx, "issue", id, now)) issues.archived++;
      const after = await issueStateOf(tx, id);
      await saveState(tx, s.seedKey, ARCHIVED, after ? hashOf(after) : ARCHIVED);
    }
    for (const s of gone.filter((g) => g.seedKey.startsWith(THEME_PREFIX))) {
      const id = uuidv5(s.seedKey);
      if (await archiveIfActive(tx, "theme", id, now)) themes.archived++;
      const after = await findTheme(tx, id);
      await saveState(tx, s.seedKey, ARCHIVED, after ? hashOf(themeStateOf(after)) : ARCHIVED);
    }
  });

  const total = zero();
  for (const k of Object.keys(total) as (keyof SeedCounts)[]) total[k] = themes[k] + issues[k];
  const report: CatalogueSeedReport = {
    ...total,
    themes,
    issues,
    ...(skipped.length ? { problems: skipped } : {}),
  };
  for (const s of skipped) options.logger?.warn(s, "seed item skipped");
  options.logger?.info({ ...total }, "analysis catalogue seeded");
  return report;
}

/** Used by tests and tools that need the deterministic id of a seeded issue. */
export const seededIssueId = (issueKey: string) => uuidv5(ISSUE_PREFIX + issueKey);
export const seededThemeId = (themeKey: string) => uuidv5(THEME_PREFIX + themeKey);
