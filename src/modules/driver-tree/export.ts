import { PassThrough, Readable } from "node:stream";
import type ExcelJSModule from "exceljs";
import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { formulaOf, treeOutline } from "@/engine";
import { safeText } from "@/modules/analysis-session/export";
import { type EvaluatedTree, loadEvaluated } from "./evaluated";
import type { FrameCache } from "./frame-cache";

/*
 * `GET …/tree/{treeId}/output` (analysis.md §7.9): one row per node × period, nodes depth-first
 * from the root and detached nodes last. csv is UTF-8 with BOM and CRLF; xlsx adds the Policies
 * and Summary sheets. Both are streamed: rows are produced as the client reads them. Text that a
 * spreadsheet would evaluate gets a leading `'` (the analysis export's rule).
 */

export type TreeOutputFormat = "xlsx" | "csv";
export type TreeOutput = { format: TreeOutputFormat; filename: string; body: ReadableStream<Uint8Array> };
type Cell = string | number | null;

export const TREE_COLUMNS = [
  "nodeId",
  "depth",
  "label",
  "nodeType",
  "formula",
  "period",
  "baseline",
  "simulated",
  "delta",
] as const;
const POLICY_COLUMNS = ["node", "name", "kind", "value", "startPeriod", "cost", "durationMonths", "status"];
const CHUNK_ROWS = 500;
const encoder = new TextEncoder();

/** The node × period rows, in export order. */
export function* treeRows(e: EvaluatedTree): Generator<Cell[]> {
  const { state, result } = e;
  const byId = new Map(state.nodes.map((n) => [n.id, n]));
  const evaluated = new Map(result.nodes.map((n) => [n.nodeId, n]));
  const rels = new Map(state.relationships.map((r) => [r.parentId, r]));
  for (const entry of treeOutline(state.rootId, state.nodes, state.relationships)) {
    const node = byId.get(entry.id);
    const values = evaluated.get(entry.id);
    if (!node || !values) continue;
    const formula = formulaOf(entry.id, byId, rels.get(entry.id));
    for (let k = 0; k < result.periods.length; k++) {
      yield [
        node.id,
        entry.depth,
        node.label,
        node.nodeType,
        formula,
        result.periods[k],
        values.baseline[k],
        values.simulated[k],
        values.delta[k],
      ];
    }
  }
}

const text = (v: Cell): Cell =>
  typeof v === "string" ? safeText(v) : typeof v === "number" && !Number.isFinite(v) ? null : v;

function csvField(v: Cell): string {
  const c = text(v);
  if (c === null) return "";
  if (typeof c === "number") return String(c);
  return /[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c;
}

function* csvChunks(e: EvaluatedTree): Generator<string> {
  yield `\uFEFF${TREE_COLUMNS.join(",")}\r\n`;
  let chunk = "";
  let n = 0;
  for (const row of treeRows(e)) {
    chunk += `${row.map(csvField).join(",")}\r\n`;
    if (++n % CHUNK_ROWS === 0) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

function csvStream(e: EvaluatedTree): ReadableStream<Uint8Array> {
  const chunks = csvChunks(e);
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
  });
}

type ExcelJS = typeof ExcelJSModule;
/* ExcelJS is loaded on the first export, not at start-up. */
let excel: Promise<ExcelJS> | null = null;
const loadExcel = () => (excel ??= import("exceljs").then((m) => (m.default ?? m) as ExcelJS));

async function writeWorkbook(ExcelJS: ExcelJS, out: PassThrough, e: EvaluatedTree, exportedAt: Date) {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: false,
    useSharedStrings: false,
  });
  const sheet = (name: string, widths: number[], header: readonly string[]) => {
    const ws = wb.addWorksheet(name);
    ws.columns = widths.map((width) => ({ width }));
    ws.addRow([...header]).commit();
    return ws;
  };
  const tree = sheet("Tree", [38, 7, 28, 12, 44, 14, 18, 18, 18], TREE_COLUMNS);
  let n = 0;
  for (const row of treeRows(e)) {
    tree.addRow(row.map(text)).commit();
    // Let the zip writer drain now and then on a large tree.
    if (++n % CHUNK_ROWS === 0) await new Promise((r) => setImmediate(r));
  }
  tree.commit();

  const policies = sheet("Policies", [28, 28, 10, 12, 14, 14, 14, 12], POLICY_COLUMNS);
  for (const p of e.policyRows) {
    policies
      .addRow(
        [p.nodeLabel, p.name, p.valueKind, p.value, p.startPeriod, p.cost, p.durationMonths, p.status].map(
          text,
        ),
      )
      .commit();
  }
  policies.commit();

  const s = e.result.summary;
  const summary = sheet("Summary", [24, 60], ["item", "value"]);
  const pairs: [string, Cell][] = [
    ["tree", e.tree.name],
    ["treeId", e.tree.id],
    ["periods", e.result.periods.join(", ")],
    ["withPolicies", String(e.result.withPolicies)],
    ["rootBaseline", s.rootBaseline],
    ["rootSimulated", s.rootSimulated],
    ["totalPolicyCost", s.totalPolicyCost],
    ["roi", s.roi],
    ["exportedAt", exportedAt.toISOString()],
  ];
  for (const p of pairs) summary.addRow(p.map(text)).commit();
  summary.commit();
  await wb.commit();
}

/* A file name without path separators or control characters; the header helper handles Unicode. */
const fileStem = (s: string) => s.replace(/[\\/]|\p{Cc}/gu, "_").trim() || "driver-tree";

export async function exportTree(
  deps: { db: Database; actor: AuditActor; frames?: FrameCache },
  projectId: string,
  treeId: string,
  query: { format: TreeOutputFormat; withPolicies?: boolean },
  now: Date = new Date(),
): Promise<TreeOutput> {
  const e = await loadEvaluated(deps.db, projectId, treeId, {
    withPolicies: query.withPolicies ?? true,
    policyRows: query.format === "xlsx",
    frames: deps.frames,
  });
  let body: ReadableStream<Uint8Array>;
  if (query.format === "csv") body = csvStream(e);
  else {
    const ExcelJS = await loadExcel();
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    // The response starts while the workbook is written; a failure aborts the stream.
    writeWorkbook(ExcelJS, out, e, now).catch((err) => out.destroy(err as Error));
    body = Readable.toWeb(out) as unknown as ReadableStream<Uint8Array>;
  }
  await writeAudit(deps.db, deps.actor, {
    eventType: "ACCESS",
    action: "EXPORT",
    resourceType: "driver_tree",
    resourceId: treeId,
    projectId,
    metadata: { format: query.format, withPolicies: e.result.withPolicies },
  });
  return { format: query.format, filename: `${fileStem(e.tree.name)}.${query.format}`, body };
}
