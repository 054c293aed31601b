import type { Database, Tx } from "@/db/client";
import {
  decide,
  hashOf,
  type SeedProblem,
  SeedSetInvalidError,
  uuidv5,
} from "@/modules/analysis-catalogue/seed";
import { saveSeedState, seedStatesWithPrefixes } from "@/modules/analysis-catalogue/seed-queries";
import {
  categoriesByIds,
  categoryStateOf,
  categoryTripleOtherThan,
  deleteCategoryRow,
  deleteFormulaRow,
  formulaPairOtherThan,
  formulaStateOf,
  formulasByIds,
  lockDriverTreeSeed,
  writeCategory,
  writeFormula,
} from "./seed-queries";
import { CATEGORY_PREFIX, type DriverTreeSet, FORMULA_PREFIX, readDriverTreeSeed } from "./seed-read";

export { readDriverTreeSeed } from "./seed-read";

/*
 * Loader of the driver-tree masters (analysis.md §7.10), the same way as the analysis catalogue
 * (§6.4): the whole set is validated first, then written in one transaction under its own advisory
 * lock; `seed_state` tells "nothing to do" from "the file changed" from "an admin edited the row"
 * (left alone unless forced). The masters have no archive: a row whose entry left the files is
 * deleted while it is still what the loader wrote (trees keep their nodes; the FKs set null).
 */

/** contentHash of an item whose entry left the files. */
const REMOVED = "removed";

export type DriverTreeCounts = {
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  removed: number;
};
export type DriverTreeSeedReport = DriverTreeCounts & {
  categories: DriverTreeCounts;
  formulas: DriverTreeCounts;
  problems?: { seedKey: string; file: string; message: string }[];
};

type SeedLogger = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
export type DriverTreeSeedOptions = { dir: string; force?: boolean; logger?: SeedLogger };

const zero = (): DriverTreeCounts => ({ created: 0, updated: 0, unchanged: 0, skipped: 0, removed: 0 });

type Kind<S> = {
  what: string;
  prefix: string;
  counts: DriverTreeCounts;
  items: { seedKey: string; id: string; file: string; state: S }[];
  current: (tx: Tx, ids: string[]) => Promise<Map<string, S>>;
  clash: (tx: Tx, state: S, id: string) => Promise<string | undefined>;
  write: (tx: Tx, id: string, state: S, exists: boolean) => Promise<void>;
  remove: (tx: Tx, id: string) => Promise<void>;
  name: (state: S) => string;
};

async function clashes<S>(tx: Tx, kind: Kind<S>): Promise<SeedProblem[]> {
  const out: SeedProblem[] = [];
  for (const i of kind.items) {
    const other = await kind.clash(tx, i.state, i.id);
    if (other)
      out.push({
        file: i.file,
        field: "",
        message: `${kind.what} ${kind.name(i.state)} is already held by row ${other} (created outside the seed)`,
      });
  }
  return out;
}

async function load<S>(
  tx: Tx,
  kind: Kind<S>,
  states: Map<string, { seedKey: string; contentHash: string | null; rowHash: string | null }>,
  force: boolean,
  skipped: NonNullable<DriverTreeSeedReport["problems"]>,
) {
  const rows = await kind.current(
    tx,
    kind.items.map((i) => i.id),
  );
  for (const i of kind.items) {
    const current = rows.get(i.id) ?? null;
    const desired = hashOf(i.state);
    // An entry back in the files after its row was removed is simply new again.
    const state = states.get(i.seedKey);
    const stored = state?.contentHash === REMOVED ? undefined : state;
    const d = decide(stored, current, desired, force);
    if (d === "skip") {
      kind.counts.skipped++;
      skipped.push({
        seedKey: i.seedKey,
        file: i.file,
        message: `${kind.what} ${kind.name(i.state)} was ${current ? "edited" : "deleted"} since the last seed; run with --force to restore it`,
      });
      continue;
    }
    if (d === "unchanged") {
      kind.counts.unchanged++;
      if (!stored) await saveSeedState(tx, i.seedKey, desired, hashOf(current));
      continue;
    }
    await kind.write(tx, i.id, i.state, current !== null);
    if (d === "create") kind.counts.created++;
    else kind.counts.updated++;
    const after = (await kind.current(tx, [i.id])).get(i.id) ?? null;
    await saveSeedState(tx, i.seedKey, desired, hashOf(after));
  }
}

async function removeGone<S>(
  tx: Tx,
  kind: Kind<S>,
  states: Map<string, { seedKey: string; contentHash: string | null; rowHash: string | null }>,
  force: boolean,
  skipped: NonNullable<DriverTreeSeedReport["problems"]>,
) {
  const present = new Set(kind.items.map((i) => i.seedKey));
  const gone = [...states.values()].filter(
    (s) => s.seedKey.startsWith(kind.prefix) && !present.has(s.seedKey) && s.contentHash !== REMOVED,
  );
  if (gone.length === 0) return;
  const ids = gone.map((s) => uuidv5(s.seedKey));
  const rows = await kind.current(tx, ids);
  for (const s of gone) {
    const id = uuidv5(s.seedKey);
    const current = rows.get(id);
    if (current && hashOf(current) !== s.rowHash && !force) {
      kind.counts.skipped++;
      skipped.push({
        seedKey: s.seedKey,
        file: "",
        message: `${kind.what} ${kind.name(current)} left the seed files but was edited since; kept`,
      });
      continue;
    }
    if (current) {
      await kind.remove(tx, id);
      kind.counts.removed++;
    }
    await saveSeedState(tx, s.seedKey, REMOVED, REMOVED);
  }
}

/**
 * Loads the driver-tree master set in `dir` (categories.yaml, formulas.yaml). Throws
 * SeedSetInvalidError before writing anything when the set does not validate.
 */
export async function seedDriverTreeMasters(
  db: Database,
  options: DriverTreeSeedOptions,
): Promise<DriverTreeSeedReport> {
  const set: DriverTreeSet = readDriverTreeSeed(options.dir);
  const force = options.force ?? false;
  const skipped: NonNullable<DriverTreeSeedReport["problems"]> = [];
  const categories: Kind<DriverTreeSet["categories"][number]["state"]> = {
    what: "category",
    prefix: CATEGORY_PREFIX,
    counts: zero(),
    items: set.categories,
    current: async (tx, ids) =>
      new Map((await categoriesByIds(tx, ids)).map((r) => [r.id, categoryStateOf(r)])),
    clash: categoryTripleOtherThan,
    write: writeCategory,
    remove: deleteCategoryRow,
    name: (s) => `${s.categoryName} / ${s.industryName} / ${s.driverType}`,
  };
  const formulas: Kind<DriverTreeSet["formulas"][number]["state"]> = {
    what: "formula",
    prefix: FORMULA_PREFIX,
    counts: zero(),
    items: set.formulas,
    current: async (tx, ids) => new Map((await formulasByIds(tx, ids)).map((r) => [r.id, formulaStateOf(r)])),
    clash: formulaPairOtherThan,
    write: writeFormula,
    remove: deleteFormulaRow,
    name: (s) => `${s.driverType} / ${s.kpi}`,
  };

  await db.transaction(async (tx) => {
    await lockDriverTreeSeed(tx);
    const problems = [...(await clashes(tx, categories)), ...(await clashes(tx, formulas))];
    if (problems.length) throw new SeedSetInvalidError(options.dir, problems);
    const states = new Map(
      (await seedStatesWithPrefixes(tx, [CATEGORY_PREFIX, FORMULA_PREFIX])).map((s) => [s.seedKey, s]),
    );
    // Categories first: formulas point at category rows; removals go the other way round.
    await load(tx, categories, states, force, skipped);
    await load(tx, formulas, states, force, skipped);
    await removeGone(tx, formulas, states, force, skipped);
    await removeGone(tx, categories, states, force, skipped);
  });

  const total = zero();
  for (const k of Object.keys(total) as (keyof DriverTreeCounts)[])
    total[k] = categories.counts[k] + formulas.counts[k];
  for (const s of skipped) options.logger?.warn(s, "seed item skipped");
  options.logger?.info({ ...total }, "driver-tree masters seeded");
  return {
    ...total,
    categories: categories.counts,
    formulas: formulas.counts,
    ...(skipped.length ? { problems: skipped } : {}),
  };
}

/* Deterministic ids of seeded rows, for tests and tools. */
export const seededFormulaId = (driverTypeKey: string, kpi: string) =>
  uuidv5(`${FORMULA_PREFIX}${driverTypeKey}/${kpi}`);
export const seededCategoryId = (category: string, industry: string, driverType: string) =>
  uuidv5(`${CATEGORY_PREFIX}${category}/${industry}/${driverType}`);
export { driverTypeId as seededDriverTypeId } from "./seed-read";
