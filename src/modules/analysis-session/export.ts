import { PassThrough, Readable } from "node:stream";
import type ExcelJSModule from "exceljs";
import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import {
  type CellValue,
  type ChartModel,
  columnNames,
  type Frame,
  materialiseRows,
  ORIGINAL_INPUT,
  runPipeline,
  type StepResult,
} from "@/engine";
import { type AppError, problem } from "@/lib/errors";
import { type Storage, snapshotKey } from "@/lib/storage";
import type { AnalysisCaches } from "./caches";
import * as q from "./queries";
import { type StepRow, stepsOf } from "./repository";
import { inputOf, toDef } from "./results";
import { getSessionDetail, loadSession } from "./service";

/*
 * Session export (analysis.md §2.7, api.md §2.7 `/export`): the JSON detail (also archived to
 * storage), one step's rows as CSV, or a workbook with the whole session. Every text cell that a
 * spreadsheet would read as a formula is neutralised with a leading apostrophe.
 */

export type ExportFormat = "xlsx" | "csv" | "json";
export type RenderPng = (
  model: ChartModel,
  size: { width: number; height: number; scale: number },
) => Promise<Uint8Array>;
export type ExportDeps = { db: Database; storage: Storage; actor: AuditActor; caches: AnalysisCaches };
/** A download: the service names it, the controller turns it into headers. */
export type ExportResult = {
  format: ExportFormat;
  filename: string;
  body: ReadableStream<Uint8Array> | Uint8Array;
  /** Byte length when the body is built whole (streamed exports have none). */
  length?: number;
};

/** Excel's row limit minus the header row. */
export const MAX_SHEET_ROWS = 1_048_575;
/* Above this many rows in all sheets together the workbook is streamed; the streaming writer
 * cannot embed pictures, so charts are then left out (and the Summary sheet says so). */
const IN_MEMORY_ROWS = 50_000;
/* A CSV up to this many rows is built whole, so its Content-Length is known. */
const CSV_BUFFER_ROWS = 20_000;
const CSV_CHUNK_ROWS = 5_000;
const CHART_SIZE = { width: 800, height: 450, scale: 2 };

const encoder = new TextEncoder();
const BOM = "\uFEFF";

/** OWASP CSV-injection rule: text that a spreadsheet would evaluate gets a leading `'`. */
export function safeText(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

function csvField(v: CellValue | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  const s = safeText(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const xlsxCell = (v: unknown): string | number | null => {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  return safeText(String(v));
};

/* Characters Excel refuses in sheet names, and its 31-character limit (UTF-16 units). */
export function sheetName(order: number, name: string, taken: Set<string>): string {
  const clean = name.replace(/[\\/?*[\]:]/g, "_").replace(/\p{Cc}/gu, "");
  const fit = (s: string) => {
    let out = "";
    for (const ch of s) {
      if (out.length + ch.length > 31) break;
      out += ch;
    }
    return out.replace(/'+$/, "");
  };
  let candidate = fit(`S${order}_${clean}`);
  for (let n = 2; taken.has(candidate.toLowerCase()); n++) {
    const suffix = `~${n}`;
    candidate = fit(`S${order}_${clean}`.slice(0, 31 - suffix.length)) + suffix;
  }
  taken.add(candidate.toLowerCase());
  return candidate;
}

/* A file name without path separators or control characters; the header helper handles Unicode. */
const fileStem = (s: string) => s.replace(/[\\/]|\p{Cc}/gu, "_").trim() || "session";

/** `YYYYMMDDTHHMMSSZ`, the export-time stamp of the archived JSON (analysis.md §2.7). */
export const exportTimestamp = (at: Date) =>
  at
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");

const stepNotFound = () => problem("STEP_NOT_FOUND");
const inputRequired = () => problem("INPUT_FILE_REQUIRED");

type Loaded = {
  session: Awaited<ReturnType<typeof loadSession>>;
  steps: StepRow[];
  input: Frame;
  byKey: Map<string, StepResult>;
  inputFile: { sourceFilename: string; sheetName: string | null };
};

async function loadAndRun(
  db: Database,
  projectId: string,
  sessionId: string,
  caches: AnalysisCaches,
): Promise<Loaded> {
  const session = await loadSession(db, projectId, sessionId);
  if (!session.inputFileId) throw inputRequired();
  const { frame: input, hash } = await inputOf(db, session, caches);
  const [inputFile, steps] = await Promise.all([
    q.fileNames(db, session.inputFileId),
    session.currentSnapshotId ? stepsOf(db, session.currentSnapshotId) : Promise.resolve([]),
  ]);
  // rowLimit 0: a summary's source table is taken whole from its input frame below.
  const { byKey } = runPipeline(input, hash, steps.map(toDef), { rowLimit: 0 });
  // inputOf read the file a moment ago: only a concurrent deletion leaves it missing.
  if (!inputFile) throw inputRequired();
  return { session, steps, input, byKey, inputFile };
}

/* The frame a summary step reads (its source table). */
const sourceOf = (l: Loaded, step: StepRow): Frame | null =>
  step.input === ORIGINAL_INPUT ? l.input : (l.byKey.get(step.input)?.frame ?? null);

function notOk(step: StepRow, result: StepResult | undefined): AppError {
  const status = result?.status ?? "not_configured";
  const detail = result?.error?.detail ?? "The step is not configured.";
  return problem("STEP_CONFIG_INVALID", {
    detail: `Step ${step.name} is ${status}: ${detail}`,
    extensions: { stepId: step.id, stepStatus: status, stepError: result?.error ?? null },
  });
}

function* csvLines(frame: Frame): Generator<string> {
  const cols = columnNames(frame);
  yield `${BOM}${cols.map(csvField).join(",")}\r\n`;
  for (let off = 0; off < frame.rowCount; off += CSV_CHUNK_ROWS) {
    const rows = materialiseRows(frame, off, CSV_CHUNK_ROWS);
    let chunk = "";
    for (const r of rows) chunk += `${cols.map((c) => csvField(r[c])).join(",")}\r\n`;
    yield chunk;
  }
}

function csvBody(frame: Frame): { body: ReadableStream<Uint8Array> | Uint8Array; length?: number } {
  if (frame.rowCount <= CSV_BUFFER_ROWS) {
    const bytes = encoder.encode([...csvLines(frame)].join(""));
    return { body: bytes, length: bytes.byteLength };
  }
  const lines = csvLines(frame);
  return {
    body: new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = lines.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
    }),
  };
}

/* Either writer behind one small surface: rows go in order, pictures only where supported. */
type SheetSink = {
  row(values: unknown[]): void;
  picture(
    png: Uint8Array,
    at: { col: number; row: number },
    size: { width: number; height: number },
  ): boolean;
  done(): Promise<void>;
};
type BookSink = {
  canEmbed: boolean;
  sheet(name: string, widths?: number[]): SheetSink;
  finish(): Promise<void>;
};

type ExcelJS = typeof ExcelJSModule;
/* ExcelJS (tens of MB resident) is loaded on the first export, not at start-up. */
let excel: Promise<ExcelJS> | null = null;
const loadExcel = () => (excel ??= import("exceljs").then((m) => (m.default ?? m) as ExcelJS));

function memoryBook(ExcelJS: ExcelJS): { book: BookSink; bytes(): Promise<Uint8Array> } {
  const wb = new ExcelJS.Workbook();
  return {
    book: {
      canEmbed: true,
      sheet(name, widths) {
        const ws = wb.addWorksheet(name);
        if (widths) ws.columns = widths.map((width) => ({ width }));
        return {
          row: (values) => void ws.addRow(values.map(xlsxCell)),
          picture(png, at, size) {
            const id = wb.addImage({ buffer: Buffer.from(png) as never, extension: "png" });
            ws.addImage(id, { tl: { col: at.col, row: at.row }, ext: size, editAs: "oneCell" });
            return true;
          },
          done: async () => {},
        };
      },
      finish: async () => {},
    },
    bytes: async () => new Uint8Array(await wb.xlsx.writeBuffer()),
  };
}

function streamingBook(ExcelJS: ExcelJS, out: PassThrough): BookSink {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: false,
    useSharedStrings: false,
  });
  return {
    canEmbed: false,
    sheet(name, widths) {
      const ws = wb.addWorksheet(name);
      if (widths) ws.columns = widths.map((width) => ({ width }));
      let n = 0;
      return {
        row(values) {
          ws.addRow(values.map(xlsxCell)).commit();
          n++;
        },
        picture: () => false,
        async done() {
          ws.commit();
          if (n > 0) await new Promise((r) => setImmediate(r));
        },
      };
    },
    finish: () => wb.commit(),
  };
}

/* Lets the zip writer catch up with a slow client every few thousand rows. */
async function breathe(out: PassThrough | null, i: number) {
  if (!out || i % 2000 !== 1999) return;
  // A client that went away destroys the stream; stop writing rather than wait for it forever.
  if (out.destroyed) throw new Error("export stream closed");
  if (!out.writableNeedDrain) return new Promise<void>((r) => setImmediate(r));
  await new Promise<void>((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.on("drain", done);
    out.on("close", done);
  });
}

async function rowsInto(sheet: SheetSink, frame: Frame, out: PassThrough | null, cap = MAX_SHEET_ROWS) {
  const cols = columnNames(frame);
  sheet.row(cols);
  const total = Math.min(frame.rowCount, cap);
  for (let off = 0; off < total; off += CSV_CHUNK_ROWS) {
    const rows = materialiseRows(frame, off, Math.min(CSV_CHUNK_ROWS, total - off));
    for (let i = 0; i < rows.length; i++) {
      sheet.row(cols.map((c) => rows[i][c]));
      await breathe(out, off + i);
    }
  }
}

type BookMeta = {
  issueName: string;
  snapshotOrder: number;
  chats: { order: number; role: string; message: string }[];
  exportedAt: Date;
};

async function writeWorkbook(
  book: BookSink,
  l: Loaded,
  meta: BookMeta,
  renderPng: RenderPng | undefined,
  out: PassThrough | null,
) {
  const charts = l.steps.filter((s) => s.type === "summary" && l.byKey.get(s.stepKey)?.summary?.chartModel);
  const chartNote =
    charts.length === 0
      ? null
      : !renderPng
        ? "no renderer"
        : !book.canEmbed
          ? "omitted (large export)"
          : null;

  const summary = book.sheet("Summary", [22, 60]);
  const pairs: [string, unknown][] = [
    ["Session", l.session.name],
    ["Session ID", l.session.id],
    ["Issue", meta.issueName],
    ["Input", l.inputFile.sourceFilename],
    ["Input sheet", l.inputFile.sheetName],
    ["Input rows", l.input.rowCount],
    ["Current snapshot", meta.snapshotOrder],
    ["Exported at", meta.exportedAt.toISOString()],
  ];
  if (l.input.rowCount > MAX_SHEET_ROWS) pairs.push(["Data sheet", `first ${MAX_SHEET_ROWS} rows`]);
  if (chartNote) pairs.push(["Charts", chartNote]);
  for (const p of pairs) summary.row(p);
  await summary.done();

  const stepsSheet = book.sheet("Steps", [8, 38, 24, 12, 38, 16, 60, 40]);
  stepsSheet.row(["order", "stepKey", "name", "type", "input", "status", "config", "error"]);
  for (const s of l.steps) {
    const r = l.byKey.get(s.stepKey);
    stepsSheet.row([
      s.stepOrder,
      s.stepKey,
      s.name,
      s.type,
      s.input,
      r?.status ?? "not_configured",
      JSON.stringify(s.config),
      r?.error?.detail ?? null,
    ]);
  }
  await stepsSheet.done();

  const chat = book.sheet("Chat", [8, 12, 100]);
  chat.row(["order", "role", "message"]);
  for (const c of meta.chats) chat.row([c.order, c.role, c.message]);
  await chat.done();

  const data = book.sheet("Data");
  await rowsInto(data, l.input, out);
  await data.done();

  const taken = new Set(["summary", "steps", "chat", "data"]);
  for (const s of l.steps) {
    const r = l.byKey.get(s.stepKey);
    const sheet = book.sheet(sheetName(s.stepOrder, s.name, taken));
    if (r?.status !== "ok") {
      sheet.row(["status", r?.status ?? "not_configured"]);
      sheet.row(["error", r?.error?.detail ?? null]);
    } else if (r.frame) {
      await rowsInto(sheet, r.frame, out);
    } else if (r.summary) {
      sheet.row(["name", "value", "unit", "display"]);
      for (const f of r.summary.resultFormula) sheet.row([f.name, f.value, f.unit, f.display]);
      if (r.summary.chartModel && renderPng && book.canEmbed) {
        // A chart that fails to render costs its picture, not the whole export.
        const png = await renderPng(r.summary.chartModel, CHART_SIZE).catch((e: unknown) => {
          sheet.row([`chart not rendered: ${e instanceof Error ? e.message : String(e)}`]);
          return null;
        });
        if (png) {
          sheet.picture(png, { col: 5, row: 0 }, { width: CHART_SIZE.width, height: CHART_SIZE.height });
        }
      }
      const source = r.summary.resultTable ? sourceOf(l, s) : null;
      if (source) {
        sheet.row([]);
        sheet.row([r.summary.resultTable?.tableName ?? "source data"]);
        await rowsInto(sheet, source, out, MAX_SHEET_ROWS - r.summary.resultFormula.length - 3);
      }
    }
    await sheet.done();
  }
  await book.finish();
}

function countRows(l: Loaded): number {
  let n = l.input.rowCount;
  for (const s of l.steps) {
    const r = l.byKey.get(s.stepKey);
    if (r?.frame) n += r.frame.rowCount;
    else if (r?.summary?.resultTable) n += sourceOf(l, s)?.rowCount ?? 0;
  }
  return n;
}

async function workbookMeta(db: Database, l: Loaded, exportedAt: Date): Promise<BookMeta> {
  const issueName = await q.issueName(db, l.session.issueId);
  const snapId = l.session.currentSnapshotId;
  const order = snapId ? await q.snapshotOrder(db, snapId) : null;
  const chats = snapId ? await q.transcript(db, snapId) : [];
  return { issueName: issueName ?? "", snapshotOrder: order ?? 0, chats, exportedAt };
}

async function xlsxExport(
  db: Database,
  l: Loaded,
  renderPng: RenderPng | undefined,
  exportedAt: Date,
): Promise<{ body: ReadableStream<Uint8Array> | Uint8Array; length?: number }> {
  const meta = await workbookMeta(db, l, exportedAt);
  const ExcelJS = await loadExcel();
  if (countRows(l) <= IN_MEMORY_ROWS) {
    const { book, bytes } = memoryBook(ExcelJS);
    await writeWorkbook(book, l, meta, renderPng, null);
    const b = await bytes();
    return { body: b, length: b.byteLength };
  }
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  // The response starts while rows are still being written; a failure aborts the stream.
  writeWorkbook(streamingBook(ExcelJS, out), l, meta, renderPng, out).catch((e) => out.destroy(e as Error));
  return { body: Readable.toWeb(out) as unknown as ReadableStream<Uint8Array> };
}

/* The CSV step: the named one, or by default the last dataset-producing step (api.md §2.7). */
function csvFrame(l: Loaded, stepId: string | undefined): { frame: Frame; step: StepRow } {
  const step = stepId
    ? l.steps.find((s) => s.id === stepId)
    : l.steps.filter((s) => s.type !== "summary").at(-1);
  if (!step) {
    throw problem("VALIDATION_FAILED", {
      detail: "The current snapshot has no dataset step to export.",
      errors: [
        { path: "/query/stepId", message: "name a step; there is no filter, aggregate or transform step" },
      ],
    });
  }
  const r = l.byKey.get(step.stepKey);
  if (r?.status !== "ok") throw notOk(step, r);
  if (r.frame) return { frame: r.frame, step };
  const source = r.summary?.resultTable ? sourceOf(l, step) : null;
  if (!source) {
    throw problem("VALIDATION_FAILED", {
      detail: "This summary step shows no source table to export.",
      errors: [
        {
          path: "/query/stepId",
          message: "a summary step exports rows only with tableConfig.showSourceData",
        },
      ],
    });
  }
  return { frame: source, step };
}

/**
 * Builds the download for one session. `renderPng` (the chart renderer) embeds summary charts in
 * the workbook when given; without it the workbook carries the tables only.
 */
export async function exportSession(
  deps: ExportDeps,
  projectId: string,
  sessionId: string,
  query: { format: ExportFormat; stepId?: string },
  renderPng?: RenderPng,
  now: Date = new Date(),
): Promise<ExportResult> {
  const session = await loadSession(deps.db, projectId, sessionId);
  if (!session.inputFileId) throw inputRequired();
  const stem = fileStem(session.name);
  let body: ReadableStream<Uint8Array> | Uint8Array;
  let length: number | undefined;
  let filename: string;

  if (query.format === "json") {
    if (query.stepId) {
      const found = await q.stepInSnapshot(deps.db, session.currentSnapshotId ?? sessionId, query.stepId);
      if (!found) throw stepNotFound();
    }
    const detail = await getSessionDetail(deps.db, projectId, sessionId, deps.caches);
    const bytes = encoder.encode(JSON.stringify(detail));
    await deps.storage.put("analysis", snapshotKey(sessionId, exportTimestamp(now)), bytes, {
      contentType: "application/json",
    });
    body = bytes;
    length = bytes.byteLength;
    filename = `${stem}.json`;
  } else {
    const l = await loadAndRun(deps.db, projectId, sessionId, deps.caches);
    if (query.stepId) findStep(l, query.stepId);
    if (query.format === "csv") {
      const { frame, step } = csvFrame(l, query.stepId);
      ({ body, length } = csvBody(frame));
      filename = `${stem}_S${step.stepOrder}_${fileStem(step.name)}.csv`;
    } else {
      ({ body, length } = await xlsxExport(deps.db, l, renderPng, now));
      filename = `${stem}.xlsx`;
    }
  }
  await writeAudit(deps.db, deps.actor, {
    eventType: "ACCESS",
    action: "EXPORT",
    resourceType: "analysis_session",
    resourceId: sessionId,
    projectId,
    metadata: { format: query.format, stepId: query.stepId ?? null, bytes: length ?? null },
  });
  return { format: query.format, filename, body, length };
}

/* stepId must name a step of the current snapshot, whatever the format. */
function findStep(l: Loaded, stepId: string): StepRow {
  const step = l.steps.find((s) => s.id === stepId);
  if (!step) throw stepNotFound();
  return step;
}
