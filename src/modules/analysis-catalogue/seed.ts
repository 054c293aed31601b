import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, normalize, relative } from "node:path";
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Database, Tx } from "@/db/client";
import {
  analysisDummyChartMaster,
  analysisDummyFormulaMaster,
  analysisGraphAxisMaster,
  analysisIssueMaster,
  analysisValidationMaster,
  seedState,
} from "@/db/schema";
import {
  canonicalJson,
  dataHash,
  isEngineError,
  materialiseRows,
  parseSheet,
  type Row,
  readCsv,
  runPipeline,
  type StepDef,
  sha256Hex,
} from "@/engine";

/*
 * Loader of the shipped analysis catalogue (analysis.md §6.3–6.4). A set is read and validated
 * completely — including a replay of every preview pipeline with the real engine — before the
 * database is touched, then written in one transaction under an advisory lock. `seed_state`
 * remembers, per item, the hash of what the files asked for and the hash of the rows as written,
 * so a re-run can tell "nothing to do" from "the source changed" from "an admin edited the row".
 */

/** Namespace of every deterministic seed id (UUIDv5); changing it would orphan seeded rows. */
export const SEED_NAMESPACE = "6f1c2d4e-8a7b-5c3d-9e0f-1a2b3c4d5e6f";

/** pg_advisory_xact_lock key of the analysis catalogue set ("campseed" as ASCII, fits a bigint). */
const LOCK_KEY = "7161971031151010100";

const HEADINGS = ["目的", "標準フロー", "確認事項", "出力"] as const;
const SLUG = /^[a-z0-9][a-z0-9-]{0,99}$/;
const THEME_PREFIX = "analysis-theme:";
const ISSUE_PREFIX = "analysis-issue:";
/** contentHash of an item archived because its source disappeared. */
const ARCHIVED = "archived";

export function uuidv5(name: string, namespace = SEED_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const bytes = createHash("sha1").update(ns).update(name, "utf8").digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const h = bytes.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export type SeedProblem = { file: string; field: string; message: string };

/** The set is unusable; nothing was written. */
export class SeedSetInvalidError extends Error {
  constructor(
    readonly set: string,
    readonly problems: SeedProblem[],
  ) {
    super(
      `seed set ${set} is invalid; nothing was written:\n${problems
        .map((p) => `  - ${p.file}${p.field ? ` ${p.field}` : ""}: ${p.message}`)
        .join("\n")}`,
    );
    this.name = "SeedSetInvalidError";
  }
}

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

type ThemeState = { name: string; validationOrder: number; isActive: boolean };
type AxisState = { id: string; name: string; option: string; multiple: boolean; axisOrder: number };
type FormulaState = { id: string; name: string; value: string; formulaOrder: number };
type ChartState = { id: string; chart: unknown; chartOrder: number };
type IssueState = {
  validationId: string;
  name: string;
  description: string | null;
  agentPrompt: string;
  initialMsg: string | null;
  dummyHint: string | null;
  dummyInput: unknown;
  issueOrder: number;
  isActive: boolean;
  axes: AxisState[];
  formulas: FormulaState[];
  charts: ChartState[];
};

type ThemeItem = { seedKey: string; id: string; file: string; state: ThemeState };
type IssueItem = { seedKey: string; id: string; file: string; state: IssueState };
export type PreparedSet = { themes: ThemeItem[]; issues: IssueItem[] };

const hashOf = (state: unknown) => sha256Hex(canonicalJson(state));

/* ---------- reading and validation (no database) ---------- */

class Problems {
  readonly list: SeedProblem[] = [];
  constructor(private file = "") {}
  at(file: string) {
    this.file = file;
    return this;
  }
  add(field: string, message: string) {
    this.list.push({ file: this.file, field, message });
  }
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function text(
  p: Problems,
  o: Record<string, unknown>,
  field: string,
  max: number,
  required = true,
): string | null {
  const v = o[field];
  if (v === undefined || v === null) {
    if (required) p.add(field, "is required");
    return null;
  }
  if (typeof v !== "string") {
    p.add(field, `must be a string, got ${typeof v}`);
    return null;
  }
  const s = v.trim();
  if (required && s.length === 0) p.add(field, "must not be empty");
  if (s.length > max) p.add(field, `is ${s.length} characters long; at most ${max}`);
  return s;
}

function int(p: Problems, o: Record<string, unknown>, field: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isInteger(v)) {
    p.add(field, "must be an integer");
    return 0;
  }
  return v;
}

function unknownKeys(p: Problems, o: Record<string, unknown>, allowed: string[], at = "") {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) p.add(`${at}${k}`, `unknown field; allowed: ${allowed.join(", ")}`);
  }
}

function parseYaml(p: Problems, path: string): unknown {
  try {
    return Bun.YAML.parse(readFileSync(path, "utf8"));
  } catch (e) {
    p.add("", `is not valid YAML: ${(e as Error).message}`);
    return undefined;
  }
}

/** `## 目的` … sections of a recipe; 標準フロー must contain numbered steps. */
export function recipeProblems(markdown: string): string[] {
  const out: string[] = [];
  const lines = markdown.split(/\r?\n/);
  const headingAt = (h: string) => lines.findIndex((l) => new RegExp(`^##\\s+${h}\\s*$`).test(l));
  for (const h of HEADINGS) if (headingAt(h) < 0) out.push(`missing heading "## ${h}"`);
  const flow = headingAt("標準フロー");
  if (flow >= 0) {
    const end = lines.findIndex((l, i) => i > flow && /^##\s/.test(l));
    const body = lines.slice(flow + 1, end < 0 ? undefined : end);
    if (!body.some((l) => /^\d+\.\s+\S/.test(l))) out.push('"## 標準フロー" has no numbered steps');
  }
  return out;
}

function readThemes(dir: string, p: Problems): ThemeItem[] {
  const file = "themes.yaml";
  p.at(file);
  const path = join(dir, file);
  if (!existsSync(path)) {
    p.add("", "is missing");
    return [];
  }
  const doc = parseYaml(p, path);
  if (doc === undefined) return [];
  if (!Array.isArray(doc) || doc.length === 0) {
    p.add("", "must be a non-empty list of {key, name, order}");
    return [];
  }
  const themes: ThemeItem[] = [];
  const keys = new Set<string>();
  const names = new Set<string>();
  doc.forEach((raw, i) => {
    const at = `[${i}]`;
    if (!isObj(raw)) {
      p.add(at, "must be an object {key, name, order}");
      return;
    }
    unknownKeys(p, raw, ["key", "name", "order"], `${at}.`);
    const key = raw.key;
    if (typeof key !== "string" || !SLUG.test(key)) p.add(`${at}.key`, "must be a slug (a-z, 0-9, -)");
    else if (keys.has(key)) p.add(`${at}.key`, `duplicate theme key ${key}`);
    else keys.add(key);
    const name = text(p, raw, "name", 255);
    if (name && names.has(name.toLowerCase())) p.add(`${at}.name`, `duplicate theme name ${name}`);
    if (name) names.add(name.toLowerCase());
    const order = int(p, raw, "order");
    if (typeof key === "string" && name) {
      themes.push({
        seedKey: THEME_PREFIX + key,
        id: uuidv5(THEME_PREFIX + key),
        file,
        state: { name, validationOrder: order, isActive: true },
      });
    }
  });
  return themes;
}

type PreviewStep = { key: string; name: string; type: StepDef["type"]; input: string; config: unknown };

function readPreview(p: Problems, raw: unknown) {
  if (!isObj(raw)) {
    p.add("preview", "must be an object {steps, formulaSteps, chartSteps}");
    return null;
  }
  unknownKeys(p, raw, ["steps", "formulaSteps", "chartSteps"], "preview.");
  const steps: PreviewStep[] = [];
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) {
    p.add("preview.steps", "must be a non-empty list");
    return null;
  }
  const keys = new Set<string>();
  const names = new Set<string>();
  raw.steps.forEach((s, i) => {
    const at = `preview.steps[${i}]`;
    if (!isObj(s)) {
      p.add(at, "must be an object {key, name, type, input, config}");
      return;
    }
    unknownKeys(p, s, ["key", "name", "type", "input", "config"], `${at}.`);
    const ok = { key: true };
    if (typeof s.key !== "string" || !SLUG.test(s.key) || s.key === "original") {
      p.add(`${at}.key`, 'must be a slug other than "original"');
      ok.key = false;
    } else if (keys.has(s.key)) p.add(`${at}.key`, `duplicate step key ${s.key}`);
    if (typeof s.name !== "string" || !s.name.trim() || s.name.length > 255)
      p.add(`${at}.name`, "must be 1–255 characters");
    else if (names.has(s.name)) p.add(`${at}.name`, `duplicate step name ${s.name}`);
    if (!["filter", "aggregate", "transform", "summary"].includes(s.type as string))
      p.add(`${at}.type`, "must be one of filter, aggregate, transform, summary");
    const datasets = steps.filter((x) => x.type !== "summary").map((x) => x.key);
    if (typeof s.input !== "string" || (s.input !== "original" && !datasets.includes(s.input)))
      p.add(
        `${at}.input`,
        `must be "original" or the key of an earlier filter/aggregate/transform step (${datasets.join(", ") || "none yet"})`,
      );
    if (!isObj(s.config)) p.add(`${at}.config`, "must be an object (a preview step is always configured)");
    if (ok.key) keys.add(s.key as string);
    names.add(s.name as string);
    steps.push({
      key: s.key as string,
      name: s.name as string,
      type: s.type as StepDef["type"],
      input: s.input as string,
      config: s.config,
    });
  });
  const refs = (field: "formulaSteps" | "chartSteps") => {
    const v = raw[field];
    if (!Array.isArray(v) || v.length === 0 || !v.every((k) => typeof k === "string")) {
      p.add(`preview.${field}`, "must be a non-empty list of summary step keys");
      return [];
    }
    v.forEach((k, i) => {
      const step = steps.find((s) => s.key === k);
      if (step?.type !== "summary") p.add(`preview.${field}[${i}]`, `${k} is not a summary step key`);
    });
    if (new Set(v).size !== v.length) p.add(`preview.${field}`, "lists a step twice");
    return v as string[];
  };
  return { steps, formulaSteps: refs("formulaSteps"), chartSteps: refs("chartSteps") };
}

const ISSUE_FIELDS = [
  "key",
  "theme",
  "order",
  "name",
  "description",
  "dummyHint",
  "initialMessage",
  "axisPickers",
  "sampleInput",
  "preview",
  "agentPrompt",
];

function readIssue(dir: string, fileName: string, themeKeys: Set<string>, p: Problems): IssueItem | null {
  const file = `issues/${fileName}`;
  p.at(file);
  const before = p.list.length;
  const doc = parseYaml(p, join(dir, file));
  if (doc === undefined) return null;
  if (!isObj(doc)) {
    p.add("", "must be an object");
    return null;
  }
  unknownKeys(p, doc, ISSUE_FIELDS);
  const key = doc.key;
  const expected = fileName.replace(/\.ya?ml$/, "");
  if (typeof key !== "string" || !SLUG.test(key)) p.add("key", "must be a slug (a-z, 0-9, -)");
  else if (key !== expected) p.add("key", `must equal the file name (${expected})`);
  if (typeof doc.theme !== "string" || !themeKeys.has(doc.theme))
    p.add("theme", `unknown theme key ${String(doc.theme)}; known: ${[...themeKeys].join(", ")}`);
  const order = int(p, doc, "order");
  const name = text(p, doc, "name", 255);
  const description = text(p, doc, "description", 10000);
  const dummyHint = text(p, doc, "dummyHint", 5000);
  const initialMsg = text(p, doc, "initialMessage", 5000);
  const agentPrompt = text(p, doc, "agentPrompt", 50000);
  if (agentPrompt) for (const m of recipeProblems(agentPrompt)) p.add("agentPrompt", m);

  const axes: AxisState[] = [];
  if (!Array.isArray(doc.axisPickers) || doc.axisPickers.length === 0) {
    p.add("axisPickers", "must be a non-empty list of {name, option, multiple}");
  } else {
    const names = new Set<string>();
    doc.axisPickers.forEach((a, i) => {
      const at = `axisPickers[${i}]`;
      if (!isObj(a)) {
        p.add(at, "must be an object {name, option, multiple}");
        return;
      }
      unknownKeys(p, a, ["name", "option", "multiple"], `${at}.`);
      const n = typeof a.name === "string" ? a.name.trim() : "";
      if (!n || n.length > 255) p.add(`${at}.name`, "must be 1–255 characters");
      else if (names.has(n.toLowerCase())) p.add(`${at}.name`, `duplicate picker name ${n}`);
      names.add(n.toLowerCase());
      if (a.option !== "subject" && a.option !== "column") p.add(`${at}.option`, "must be subject or column");
      if (typeof a.multiple !== "boolean") p.add(`${at}.multiple`, "must be true or false");
      axes.push({
        id: uuidv5(`analysis-axis:${String(key)}:${n}`),
        name: n,
        option: a.option as string,
        multiple: a.multiple === true,
        axisOrder: i,
      });
    });
  }

  let dummyInput: Row[] | null = null;
  let frame: ReturnType<typeof parseSheet>["frame"] | null = null;
  const sample = doc.sampleInput;
  if (typeof sample !== "string" || !sample.trim())
    p.add("sampleInput", "must be a path below the set folder");
  else {
    const rel = normalize(sample);
    if (isAbsolute(rel) || relative(dir, join(dir, rel)).startsWith(".."))
      p.add("sampleInput", "must stay inside the set folder");
    else if (!existsSync(join(dir, rel))) p.add("sampleInput", `${sample} does not exist`);
    else {
      try {
        const grid = readCsv(new Uint8Array(readFileSync(join(dir, rel))));
        const parsed = parseSheet(
          { name: grid.name, rows: grid.rows, merges: [], lines: grid.lines },
          { shape: "long" },
        );
        frame = parsed.frame;
        dummyInput = materialiseRows(frame);
        if (dummyInput.length > 1000) p.add("sampleInput", `has ${dummyInput.length} rows; at most 1000`);
      } catch (e) {
        p.add(
          "sampleInput",
          `${sample} is not a long-format table: ${isEngineError(e) ? e.detail : (e as Error).message}`,
        );
      }
    }
  }

  const preview = readPreview(p, doc.preview);
  const formulas: FormulaState[] = [];
  const charts: ChartState[] = [];
  // Replaying only makes sense on a well-formed preview and a readable sample.
  if (preview && frame && p.list.length === before) {
    const defs: StepDef[] = preview.steps.map((s) => ({
      stepKey: s.key,
      name: s.name,
      type: s.type,
      input: s.input,
      config: s.config,
    }));
    const { steps } = runPipeline(frame, dataHash(frame), defs);
    steps.forEach((r, i) => {
      if (r.status !== "ok") {
        const where = r.error?.errors?.[0]?.path ?? "";
        p.add(
          `preview.steps[${i}].config${where.replace(/^\/config/, "")}`,
          `step ${r.name} is ${r.status}: ${r.error?.detail ?? ""}`,
        );
      }
    });
    if (steps.every((r) => r.status === "ok")) {
      const names = new Set<string>();
      for (const k of preview.formulaSteps) {
        const r = steps.find((s) => s.stepKey === k)!;
        const list = r.summary?.resultFormula ?? [];
        if (list.length === 0) p.add("preview.formulaSteps", `step ${k} has no formulas`);
        for (const f of list) {
          if (names.has(f.name)) p.add("preview.formulaSteps", `formula name ${f.name} appears twice`);
          names.add(f.name);
          formulas.push({
            id: uuidv5(`analysis-formula:${String(key)}:${k}:${f.name}`),
            name: f.name,
            value: f.display,
            formulaOrder: formulas.length,
          });
        }
      }
      for (const k of preview.chartSteps) {
        const r = steps.find((s) => s.stepKey === k)!;
        if (!r.summary?.resultChart) p.add("preview.chartSteps", `step ${k} has no chartConfig`);
        else {
          charts.push({
            id: uuidv5(`analysis-chart:${String(key)}:${k}`),
            chart: JSON.parse(JSON.stringify(r.summary.resultChart)),
            chartOrder: charts.length,
          });
        }
      }
    }
  }
  if (p.list.length > before) return null;
  return {
    seedKey: ISSUE_PREFIX + key,
    id: uuidv5(ISSUE_PREFIX + key),
    file,
    state: {
      validationId: uuidv5(THEME_PREFIX + doc.theme),
      name: name!,
      description,
      agentPrompt: agentPrompt!,
      initialMsg,
      dummyHint,
      dummyInput,
      issueOrder: order,
      isActive: true,
      axes,
      formulas,
      charts,
    },
  };
}

/** Reads and validates a whole set; throws SeedSetInvalidError listing every problem. */
export function readAnalysisSeed(dir: string): PreparedSet {
  const p = new Problems();
  if (!existsSync(dir))
    throw new SeedSetInvalidError(dir, [{ file: dir, field: "", message: "does not exist" }]);
  const themes = readThemes(dir, p);
  const themeKeys = new Set(themes.map((t) => t.seedKey.slice(THEME_PREFIX.length)));
  const issuesDir = join(dir, "issues");
  const files = existsSync(issuesDir)
    ? readdirSync(issuesDir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
    : [];
  if (files.length === 0) p.at("issues/").add("", "contains no issue files");
  const issues: IssueItem[] = [];
  for (const f of files) {
    const issue = readIssue(dir, f, themeKeys, p);
    if (issue) issues.push(issue);
  }
  const byName = new Map<string, string>();
  for (const i of issues) {
    const k = `${i.state.validationId}:${i.state.name.toLowerCase()}`;
    const other = byName.get(k);
    if (other) p.at(i.file).add("name", `the same name as ${other} under the same theme`);
    byName.set(k, i.file);
  }
  if (p.list.length > 0) throw new SeedSetInvalidError(dir, p.list);
  return { themes, issues };
}

/* ---------- writing ---------- */

type ThemeRow = typeof analysisValidationMaster.$inferSelect;

const themeStateOf = (r: ThemeRow): ThemeState => ({
  name: r.name,
  validationOrder: r.validationOrder,
  isActive: r.isActive,
});

async function issueStateOf(tx: Tx, id: string): Promise<IssueState | null> {
  const [r] = await tx.select().from(analysisIssueMaster).where(eq(analysisIssueMaster.id, id));
  if (!r) return null;
  const [axes, formulas, charts] = await Promise.all([
    tx.select().from(analysisGraphAxisMaster).where(eq(analysisGraphAxisMaster.issueId, id)),
    tx.select().from(analysisDummyFormulaMaster).where(eq(analysisDummyFormulaMaster.issueId, id)),
    tx.select().from(analysisDummyChartMaster).where(eq(analysisDummyChartMaster.issueId, id)),
  ]);
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

async function writeIssue(tx: Tx, item: IssueItem, exists: boolean) {
  const { axes, formulas, charts, ...row } = item.state;
  const now = new Date();
  if (exists) {
    await tx
      .update(analysisIssueMaster)
      .set({ ...row, archivedAt: null, updatedAt: now })
      .where(eq(analysisIssueMaster.id, item.id));
    await tx.delete(analysisGraphAxisMaster).where(eq(analysisGraphAxisMaster.issueId, item.id));
    await tx.delete(analysisDummyFormulaMaster).where(eq(analysisDummyFormulaMaster.issueId, item.id));
    await tx.delete(analysisDummyChartMaster).where(eq(analysisDummyChartMaster.issueId, item.id));
  } else {
    await tx.insert(analysisIssueMaster).values({ id: item.id, ...row });
  }
  if (axes.length)
    await tx.insert(analysisGraphAxisMaster).values(axes.map((a) => ({ ...a, issueId: item.id })));
  if (formulas.length)
    await tx.insert(analysisDummyFormulaMaster).values(formulas.map((f) => ({ ...f, issueId: item.id })));
  if (charts.length)
    await tx.insert(analysisDummyChartMaster).values(charts.map((c) => ({ ...c, issueId: item.id })));
}

async function saveState(tx: Tx, seedKey: string, contentHash: string, rowHash: string) {
  await tx
    .insert(seedState)
    .values({ seedKey, contentHash, rowHash })
    .onConflictDoUpdate({ target: seedState.seedKey, set: { contentHash, rowHash, updatedAt: new Date() } });
}

const zero = (): SeedCounts => ({ created: 0, updated: 0, unchanged: 0, skipped: 0, archived: 0 });

type Decision = "create" | "update" | "unchanged" | "skip";

/** The rule of §6.4: an edited (or deleted) row wins over the files unless forced. */
function decide(
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
    const [c] = await tx
      .select({ id: analysisValidationMaster.id })
      .from(analysisValidationMaster)
      .where(
        and(
          sql`lower(${analysisValidationMaster.name}) = lower(${t.state.name})`,
          ne(analysisValidationMaster.id, t.id),
        ),
      );
    if (c)
      out.push({ file: t.file, field: "name", message: `${t.state.name} is already used by theme ${c.id}` });
  }
  for (const i of set.issues) {
    const [c] = await tx
      .select({ id: analysisIssueMaster.id })
      .from(analysisIssueMaster)
      .where(
        and(
          eq(analysisIssueMaster.validationId, i.state.validationId),
          sql`lower(${analysisIssueMaster.name}) = lower(${i.state.name})`,
          ne(analysisIssueMaster.id, i.id),
        ),
      );
    if (c)
      out.push({ file: i.file, field: "name", message: `${i.state.name} is already used by issue ${c.id}` });
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
    await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_KEY}::bigint)`);
    const conflicts = await nameConflicts(tx, set);
    if (conflicts.length) throw new SeedSetInvalidError(options.dir, conflicts);
    const states = new Map(
      (
        await tx
          .select()
          .from(seedState)
          .where(
            sql`${seedState.seedKey} like ${THEME_PREFIX + "%"} or ${seedState.seedKey} like ${ISSUE_PREFIX + "%"}`,
          )
      ).map((s) => [s.seedKey, s]),
    );
    const themeRows = new Map(
      (
        await tx
          .select()
          .from(analysisValidationMaster)
          .where(
            inArray(
              analysisValidationMaster.id,
              set.themes.map((t) => t.id),
            ),
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
        await tx.insert(analysisValidationMaster).values({ id: t.id, ...t.state });
        themes.created++;
      } else {
        await tx
          .update(analysisValidationMaster)
          .set({ ...t.state, archivedAt: null, updatedAt: new Date() })
          .where(eq(analysisValidationMaster.id, t.id));
        themes.updated++;
      }
      const [after] = await tx
        .select()
        .from(analysisValidationMaster)
        .where(eq(analysisValidationMaster.id, t.id));
      await saveState(tx, t.seedKey, desired, hashOf(themeStateOf(after)));
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
      await writeIssue(tx, i, current !== null);
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
      const [row] = await tx
        .update(analysisIssueMaster)
        .set({ isActive: false, archivedAt: now, updatedAt: now })
        .where(and(eq(analysisIssueMaster.id, id), eq(analysisIssueMaster.isActive, true)))
        .returning({ id: analysisIssueMaster.id });
      if (row) issues.archived++;
      const after = await issueStateOf(tx, id);
      await saveState(tx, s.seedKey, ARCHIVED, after ? hashOf(after) : ARCHIVED);
    }
    for (const s of gone.filter((g) => g.seedKey.startsWith(THEME_PREFIX))) {
      const id = uuidv5(s.seedKey);
      const [row] = await tx
        .update(analysisValidationMaster)
        .set({ isActive: false, archivedAt: now, updatedAt: now })
        .where(and(eq(analysisValidationMaster.id, id), eq(analysisValidationMaster.isActive, true)))
        .returning();
      if (row) themes.archived++;
      const [after] = await tx
        .select()
        .from(analysisValidationMaster)
        .where(eq(analysisValidationMaster.id, id));
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
