import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, normalize, relative } from "node:path";
import { type Static, type TObject, type TProperties, type TSchema, Type } from "@sinclair/typebox";
import { Value, type ValueError, ValueErrorType } from "@sinclair/typebox/value";
import {
  dataHash,
  type Frame,
  isEngineError,
  materialiseRows,
  parseSheet,
  readCsv,
  runPipeline,
  type StepDef,
} from "@/engine";

/*
 * Reading and validating a catalogue seed set (analysis.md §6.3), without touching the database:
 * the files' shape, their cross-references and a replay of every preview with the real engine.
 */

/** Namespace of every deterministic seed id (UUIDv5); changing it would orphan seeded rows. */
export const SEED_NAMESPACE = "6f1c2d4e-8a7b-5c3d-9e0f-1a2b3c4d5e6f";

export const HEADINGS = ["目的", "標準フロー", "確認事項", "出力"] as const;
export const SLUG = /^[a-z0-9][a-z0-9-]{0,99}$/;
export const THEME_PREFIX = "analysis-theme:";
export const ISSUE_PREFIX = "analysis-issue:";

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

export type ThemeState = { name: string; validationOrder: number; isActive: boolean };
export type AxisState = { id: string; name: string; option: string; multiple: boolean; axisOrder: number };
export type FormulaState = { id: string; name: string; value: string; formulaOrder: number };
export type ChartState = { id: string; chart: unknown; chartOrder: number };
export type IssueState = {
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

export type ThemeItem = { seedKey: string; id: string; file: string; state: ThemeState };
export type IssueItem = { seedKey: string; id: string; file: string; state: IssueState };
export type PreparedSet = { themes: ThemeItem[]; issues: IssueItem[] };

/* ---------- reading and validation (no database) ---------- */

/*
 * The shape of the files is TypeBox (`Value.Errors`); what a schema cannot say — duplicates,
 * references between steps, the recipe headings, the sample file, the replay — is checked after
 * it, and only on fields whose shape passed. Every problem names its file and field.
 */

export class Problems {
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

const Slug = Type.String({ pattern: SLUG.source, errorMessage: "must be a slug (a-z, 0-9, -)" });
/* Trimmed before validation (`trimmed`), so "1–max" is about the text the row will hold. */
const Text = (max: number) =>
  Type.String({ pattern: "\\S", maxLength: max, errorMessage: `must be 1–${max} characters` });
const Int = Type.Integer({ errorMessage: "must be an integer" });
const Closed = <P extends TProperties>(properties: P, errorMessage?: string) =>
  Type.Object(properties, {
    additionalProperties: false,
    errorMessage: errorMessage ?? `must be an object {${Object.keys(properties).join(", ")}}`,
  });
const NonEmptyList = <T extends TSchema>(item: T, errorMessage: string) =>
  Type.Array(item, { minItems: 1, errorMessage });

const ThemesFile = NonEmptyList(
  Closed({ key: Slug, name: Text(255), order: Int }),
  "must be a non-empty list of {key, name, order}",
);

const STEP_TYPES = ["filter", "aggregate", "transform", "summary"] as const;
const SummaryRefs = NonEmptyList(
  Type.String({ errorMessage: "must be a summary step key" }),
  "must be a non-empty list of summary step keys",
);
const Preview = Closed({
  steps: NonEmptyList(
    Closed({
      key: Type.String({
        pattern: `^(?!original$)${SLUG.source.slice(1)}`,
        errorMessage: 'must be a slug other than "original"',
      }),
      name: Type.String({ pattern: "\\S", maxLength: 255, errorMessage: "must be 1–255 characters" }),
      type: Type.Union(
        STEP_TYPES.map((t) => Type.Literal(t)),
        { errorMessage: `must be one of ${STEP_TYPES.join(", ")}` },
      ),
      input: Type.String({ errorMessage: "must be a step key" }),
      config: Type.Object({}, { errorMessage: "must be an object (a preview step is always configured)" }),
    }),
    "must be a non-empty list",
  ),
  formulaSteps: SummaryRefs,
  chartSteps: SummaryRefs,
});

const IssueFile = Closed(
  {
    key: Slug,
    theme: Type.String({ errorMessage: "must be a theme key" }),
    order: Int,
    name: Text(255),
    description: Text(10000),
    dummyHint: Text(5000),
    initialMessage: Text(5000),
    axisPickers: NonEmptyList(
      Closed({
        name: Text(255),
        option: Type.Union([Type.Literal("subject"), Type.Literal("column")], {
          errorMessage: "must be subject or column",
        }),
        multiple: Type.Boolean({ errorMessage: "must be true or false" }),
      }),
      "must be a non-empty list of {name, option, multiple}",
    ),
    sampleInput: Type.String({ pattern: "\\S", errorMessage: "must be a path below the set folder" }),
    preview: Preview,
    agentPrompt: Text(50000),
  },
  "must be an object",
);

type ThemeDoc = Static<typeof ThemesFile>[number];
type IssueDoc = Static<typeof IssueFile>;
type StepDoc = IssueDoc["preview"]["steps"][number];

/* JSON pointer → the field notation of the messages: /preview/steps/1/type → preview.steps[1].type */
const fieldOf = (pointer: string) =>
  pointer
    .split("/")
    .slice(1)
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join("")
    .replace(/^\./, "");

function messageOf(e: ValueError): string {
  const schema = e.schema as TSchema & { errorMessage?: string };
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return "is required";
    case ValueErrorType.ObjectAdditionalProperties:
      return `unknown field; allowed: ${Object.keys((schema as TObject).properties).join(", ")}`;
    case ValueErrorType.StringMaxLength:
      return `is ${(e.value as string).length} characters long; at most ${schema.maxLength}`;
    default:
      return schema.errorMessage ?? e.message;
  }
}

/**
 * Records the shape problems of `value` (one per field) and answers whether a field is usable:
 * neither it nor anything above it failed.
 */
export function checkShape(p: Problems, schema: TSchema, value: unknown, prefix = "") {
  const bad: string[] = [];
  for (const e of Value.Errors(schema, value)) {
    const field = prefix + fieldOf(e.path);
    if (bad.includes(field)) continue;
    bad.push(field);
    p.add(field, messageOf(e));
  }
  return (field: string) =>
    !bad.some((b) => b === "" || b === field || field.startsWith(`${b}.`) || field.startsWith(`${b}[`));
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/* The text fields are stored trimmed, so their limits apply to the trimmed text. */
export function trimmed(o: unknown, fields: readonly string[]): unknown {
  if (!isObj(o)) return o;
  const out = { ...o };
  for (const f of fields) if (typeof out[f] === "string") out[f] = (out[f] as string).trim();
  return out;
}

export function parseYaml(p: Problems, path: string): unknown {
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

/* Reports the second and later use of a (case-folded) value among the entries that passed. */
function duplicates<T>(
  p: Problems,
  entries: readonly T[],
  ok: (i: number) => boolean,
  value: (e: T) => string,
  report: (e: T, i: number) => [field: string, message: string],
) {
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    if (!ok(i)) return;
    const v = value(e);
    if (seen.has(v)) p.add(...report(e, i));
    seen.add(v);
  });
}

function readThemes(dir: string, p: Problems): ThemeItem[] {
  const file = "themes.yaml";
  p.at(file);
  const path = join(dir, file);
  if (!existsSync(path)) {
    p.add("", "is missing");
    return [];
  }
  const raw = parseYaml(p, path);
  if (raw === undefined) return [];
  const doc = Array.isArray(raw) ? raw.map((t) => trimmed(t, ["name"])) : raw;
  const ok = checkShape(p, ThemesFile, doc);
  if (!ok("")) return [];
  const themes = doc as ThemeDoc[];
  const usable = (i: number) => ok(`[${i}].key`) && ok(`[${i}].name`);
  duplicates(
    p,
    themes,
    (i) => ok(`[${i}].key`),
    (t) => t.key,
    (t, i) => [`[${i}].key`, `duplicate theme key ${t.key}`],
  );
  duplicates(
    p,
    themes,
    (i) => ok(`[${i}].name`),
    (t) => t.name.toLowerCase(),
    (t, i) => [`[${i}].name`, `duplicate theme name ${t.name}`],
  );
  return themes
    .filter((_, i) => usable(i))
    .map((t) => ({
      seedKey: THEME_PREFIX + t.key,
      id: uuidv5(THEME_PREFIX + t.key),
      file,
      state: { name: t.name, validationOrder: t.order, isActive: true },
    }));
}

/* References between preview steps: inputs point backwards at datasets, refs at summaries. */
function checkPreview(p: Problems, preview: IssueDoc["preview"], ok: (field: string) => boolean) {
  const steps = preview.steps;
  const at = (i: number) => `preview.steps[${i}]`;
  duplicates(
    p,
    steps,
    (i) => ok(`${at(i)}.key`),
    (s) => s.key,
    (s, i) => [`${at(i)}.key`, `duplicate step key ${s.key}`],
  );
  duplicates(
    p,
    steps,
    (i) => ok(`${at(i)}.name`),
    (s) => s.name,
    (s, i) => [`${at(i)}.name`, `duplicate step name ${s.name}`],
  );
  steps.forEach((s, i) => {
    if (!ok(`${at(i)}.input`)) return;
    const datasets = steps
      .slice(0, i)
      .filter((x) => x.type !== "summary")
      .map((x) => x.key);
    if (s.input !== "original" && !datasets.includes(s.input))
      p.add(
        `${at(i)}.input`,
        `must be "original" or the key of an earlier filter/aggregate/transform step (${datasets.join(", ") || "none yet"})`,
      );
  });
  for (const field of ["formulaSteps", "chartSteps"] as const) {
    if (!ok(`preview.${field}`)) continue;
    const refs = preview[field];
    refs.forEach((k, i) => {
      if (steps.find((s) => s.key === k)?.type !== "summary")
        p.add(`preview.${field}[${i}]`, `${k} is not a summary step key`);
    });
    if (new Set(refs).size !== refs.length) p.add(`preview.${field}`, "lists a step twice");
  }
}

/* The sample table as a frame, or a problem naming why it cannot be one. */
function readSample(p: Problems, dir: string, sample: string) {
  const rel = normalize(sample);
  if (isAbsolute(rel) || relative(dir, join(dir, rel)).startsWith("..")) {
    p.add("sampleInput", "must stay inside the set folder");
    return null;
  }
  if (!existsSync(join(dir, rel))) {
    p.add("sampleInput", `${sample} does not exist`);
    return null;
  }
  try {
    const grid = readCsv(new Uint8Array(readFileSync(join(dir, rel))));
    const { frame } = parseSheet(
      { name: grid.name, rows: grid.rows, merges: [], lines: grid.lines },
      { shape: "long" },
    );
    const rows = materialiseRows(frame);
    if (rows.length > 1000) p.add("sampleInput", `has ${rows.length} rows; at most 1000`);
    return { frame, rows };
  } catch (e) {
    p.add(
      "sampleInput",
      `${sample} is not a long-format table: ${isEngineError(e) ? e.detail : (e as Error).message}`,
    );
    return null;
  }
}

function readIssue(dir: string, fileName: string, themeKeys: Set<string>, p: Problems): IssueItem | null {
  const file = `issues/${fileName}`;
  p.at(file);
  const before = p.list.length;
  const raw = parseYaml(p, join(dir, file));
  if (raw === undefined) return null;
  const doc = trimmed(raw, ["name", "description", "dummyHint", "initialMessage", "agentPrompt"]) as IssueDoc;
  if (isObj(doc) && Array.isArray(doc.axisPickers))
    doc.axisPickers = doc.axisPickers.map((a) => trimmed(a, ["name"]) as (typeof doc.axisPickers)[number]);
  const ok = checkShape(p, IssueFile, doc);
  if (!ok("")) return null;

  const key = doc.key;
  const expected = fileName.replace(/\.ya?ml$/, "");
  if (ok("key") && key !== expected) p.add("key", `must equal the file name (${expected})`);
  if (ok("theme") && !themeKeys.has(doc.theme))
    p.add("theme", `unknown theme key ${doc.theme}; known: ${[...themeKeys].join(", ")}`);
  if (ok("agentPrompt")) for (const m of recipeProblems(doc.agentPrompt)) p.add("agentPrompt", m);
  if (ok("axisPickers"))
    duplicates(
      p,
      doc.axisPickers,
      (i) => ok(`axisPickers[${i}].name`),
      (a) => a.name.toLowerCase(),
      (a, i) => [`axisPickers[${i}].name`, `duplicate picker name ${a.name}`],
    );
  const sample = ok("sampleInput") ? readSample(p, dir, doc.sampleInput) : null;
  if (ok("preview")) checkPreview(p, doc.preview, ok);

  // Replaying only makes sense on a well-formed preview and a readable sample.
  if (!sample || p.list.length > before) return null;
  const built = replayPreview(p, key, sample.frame, doc.preview);
  if (p.list.length > before) return null;
  return {
    seedKey: ISSUE_PREFIX + key,
    id: uuidv5(ISSUE_PREFIX + key),
    file,
    state: {
      validationId: uuidv5(THEME_PREFIX + doc.theme),
      name: doc.name,
      description: doc.description,
      agentPrompt: doc.agentPrompt,
      initialMsg: doc.initialMessage,
      dummyHint: doc.dummyHint,
      dummyInput: sample.rows,
      issueOrder: doc.order,
      isActive: true,
      axes: doc.axisPickers.map((a, i) => ({
        id: uuidv5(`analysis-axis:${key}:${a.name}`),
        name: a.name,
        option: a.option,
        multiple: a.multiple,
        axisOrder: i,
      })),
      ...built,
    },
  };
}

/* Runs the preview with the real engine; its summaries become the dummy formulas and charts. */
function replayPreview(p: Problems, key: string, frame: Frame, preview: IssueDoc["preview"]) {
  const formulas: FormulaState[] = [];
  const charts: ChartState[] = [];
  const defs: StepDef[] = preview.steps.map((s: StepDoc) => ({
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
  if (!steps.every((r) => r.status === "ok")) return { formulas, charts };
  const names = new Set<string>();
  for (const k of preview.formulaSteps) {
    const r = steps.find((s) => s.stepKey === k)!;
    const list = r.summary?.resultFormula ?? [];
    if (list.length === 0) p.add("preview.formulaSteps", `step ${k} has no formulas`);
    for (const f of list) {
      if (names.has(f.name)) p.add("preview.formulaSteps", `formula name ${f.name} appears twice`);
      names.add(f.name);
      formulas.push({
        id: uuidv5(`analysis-formula:${key}:${k}:${f.name}`),
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
        id: uuidv5(`analysis-chart:${key}:${k}`),
        chart: JSON.parse(JSON.stringify(r.summary.resultChart)),
        chartOrder: charts.length,
      });
    }
  }
  return { formulas, charts };
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
