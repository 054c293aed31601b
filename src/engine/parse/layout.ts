/*
 * Shape detection and the two layouts (analysis.md §1.3–§1.5): a grid of raw cells becomes a
 * long-format columnar frame, or a SHEET_PARSE_ERROR whose detail starts with the broken rule.
 */
import { type ShapeOption, SUBJECT, VALUE } from "@/engine/contract";
import { type EngineFieldError, limitExceeded, sheetParseError } from "@/engine/errors";
import { type Frame, FrameBuilder } from "@/engine/frame";
import { type EngineLimits, withDefaults } from "@/engine/limits";
import {
  a1,
  cellValue,
  isEmptyCell,
  isErrorCell,
  isUncachedFormula,
  labelOf,
  type RawCell,
} from "@/engine/parse/cells";
import type { SheetGrid } from "@/engine/parse/xlsx";
import { groupRows } from "@/engine/util/group";

export type Shape = "long" | "hierarchical";

export type ParseWarning = { code: string; count: number; message: string; first?: string };

export type ParsedSheet = {
  sheetName: string;
  shape: Shape;
  axes: string[];
  frame: Frame;
  warnings: ParseWarning[];
};

export type LayoutOptions = { shape?: ShapeOption; limits?: Partial<EngineLimits> };

const rowIsEmpty = (row: RawCell[] | undefined): boolean => {
  if (!row) return true;
  for (let c = 0; c < row.length; c++) if (!isEmptyCell(row[c])) return false;
  return true;
};

/** Long when the first non-empty row holds 科目 and 値 exactly once each (§1.3). */
export function detectShape(grid: SheetGrid): Shape {
  const first = grid.rows.find((r) => !rowIsEmpty(r));
  if (!first) return "hierarchical";
  let subjects = 0;
  let values = 0;
  for (const cell of first) {
    const l = labelOf(cell);
    if (l === SUBJECT) subjects++;
    else if (l === VALUE) values++;
  }
  return subjects === 1 && values === 1 ? "long" : "hierarchical";
}

export function parseSheet(grid: SheetGrid, options: LayoutOptions = {}): ParsedSheet {
  const limits = withDefaults(options.limits);
  const width = grid.rows.reduce((w, r) => Math.max(w, r.length), 0);
  const cells = grid.rows.length * width;
  if (cells > limits.maxSheetCells) throw limitExceeded("cells", limits.maxSheetCells, cells);
  const shape = !options.shape || options.shape === "auto" ? detectShape(grid) : options.shape;
  return shape === "long" ? parseLong(grid, limits) : parseHierarchical(grid, limits);
}

/** Where a row or cell is, for messages: CSV rows by physical line, sheet cells in A1 notation. */
function rowRef(grid: SheetGrid, r: number): string {
  return grid.lines ? `line ${grid.lines[r] ?? r + 1}` : `row ${r + 1}`;
}
function cellRef(grid: SheetGrid, r: number, c: number): string {
  return grid.lines ? `${a1(r, c)} (line ${grid.lines[r] ?? r + 1})` : a1(r, c);
}

class WarningCounter {
  private readonly map = new Map<string, ParseWarning>();
  add(code: string, message: string, where: string): void {
    const w = this.map.get(code);
    if (w) w.count++;
    else this.map.set(code, { code, count: 1, message, first: where });
  }
  list(): ParseWarning[] {
    return [...this.map.values()];
  }
}

function checkLabel(label: string, limits: EngineLimits): void {
  if (label.length > limits.maxLabelLength) {
    throw limitExceeded("labelLength", limits.maxLabelLength, label.length);
  }
}

function checkAxisNames(names: string[], refs: string[], limits: EngineLimits): void {
  const empty: EngineFieldError[] = [];
  const reserved: EngineFieldError[] = [];
  const dup: EngineFieldError[] = [];
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    if (n === "") empty.push({ path: `/axes/${i}`, message: `empty axis name in ${refs[i]}` });
    else if (n === SUBJECT || n === VALUE)
      reserved.push({ path: `/axes/${i}`, message: `axis name ${n} in ${refs[i]} is reserved` });
    else if (seen.has(n))
      dup.push({ path: `/axes/${i}`, message: `axis name ${n} in ${refs[i]} repeats ${refs[seen.get(n)!]}` });
    else seen.set(n, i);
  });
  if (empty.length) throw sheetParseError("EMPTY_AXIS_NAME", empty[0].message, empty);
  if (dup.length) throw sheetParseError("DUPLICATE_AXIS_NAME", dup[0].message, dup);
  if (reserved.length) throw sheetParseError("RESERVED_AXIS_NAME", reserved[0].message, reserved);
  if (names.length > limits.maxAxes) throw limitExceeded("axes", limits.maxAxes, names.length);
  for (const n of names) checkLabel(n, limits);
}

function parseHierarchical(grid: SheetGrid, limits: EngineLimits): ParsedSheet {
  const rows = grid.rows;
  let lastRow = rows.length - 1;
  while (lastRow >= 0 && rowIsEmpty(rows[lastRow])) lastRow--;
  let first = 0;
  while (first <= lastRow && rowIsEmpty(rows[first])) first++;
  if (first > lastRow) throw sheetParseError("NO_HEADER_ROWS", "the sheet is empty");
  let sep = first + 1;
  while (sep <= lastRow && !rowIsEmpty(rows[sep])) sep++;
  if (sep > lastRow) {
    throw sheetParseError(
      "NO_SEPARATOR_ROW",
      `no empty row separates the header block (from ${rowRef(grid, first)}) from the data; ` +
        `neither the long format (${SUBJECT} and ${VALUE} columns) nor the hierarchical layout fits`,
    );
  }
  let lastCol = -1;
  for (let r = first; r <= lastRow; r++) {
    const row = rows[r];
    for (let c = row.length - 1; c > lastCol; c--) {
      if (!isEmptyCell(row[c])) {
        lastCol = c;
        break;
      }
    }
  }
  const headerCount = sep - first;
  // Header cells with merged ranges propagated (rule 4): only ranges whose master is in the block.
  const header: RawCell[][] = [];
  for (let h = 0; h < headerCount; h++) header.push((rows[first + h] ?? []).slice(0, lastCol + 1));
  for (const m of grid.merges) {
    if (m.top < first || m.top >= sep) continue;
    const master = rows[m.top]?.[m.left];
    for (let r = m.top; r <= Math.min(m.bottom, sep - 1); r++) {
      for (let c = m.left; c <= Math.min(m.right, lastCol); c++) header[r - first][c] = master;
    }
  }
  const axisNames = header.map((row) => labelOf(row[0]));
  checkAxisNames(
    axisNames,
    header.map((_, h) => rowRef(grid, first + h)),
    limits,
  );

  const builder = new FrameBuilder(axisNames, Math.max(16, (lastRow - sep) * lastCol));
  const nCols = Math.max(0, lastCol);
  // Per data column: axis codes and a dense id of its header tuple, for duplicate detection.
  const colCodes: number[][] = [];
  const colKey = new Int32Array(nCols);
  const keyIndex = new Map<string, number>();
  const warnings = new WarningCounter();
  for (let c = 1; c <= lastCol; c++) {
    const codes = axisNames.map((_, h) => {
      const l = labelOf(header[h][c]);
      if (l !== "") checkLabel(l, limits);
      return builder.axisEncoders[h].code(l === "" ? null : l);
    });
    colCodes.push(codes);
    const k = codes.join(",");
    let id = keyIndex.get(k);
    if (id === undefined) {
      id = keyIndex.size;
      keyIndex.set(k, id);
    }
    colKey[c - 1] = id;
  }
  const nKeys = Math.max(1, keyIndex.size);
  // First cell (r × (lastCol + 1) + c) of each (科目, header tuple), -1 = not seen: a typed table
  // (subjects ≤ data rows, so it has at most as many slots as the sheet has cells) instead of a
  // Map, which for 50,000 cells cost ~10 MB of hash-table memory.
  const slots = (lastRow - sep) * nKeys;
  const seenCombo: Int32Array | Map<number, number> =
    slots <= 1 << 25 && (lastRow + 1) * (lastCol + 1) < 2 ** 31
      ? new Int32Array(Math.max(0, slots)).fill(-1)
      : new Map<number, number>();
  const headerless = new Uint8Array(nCols);
  for (let c = 1; c <= lastCol; c++) headerless[c - 1] = colCodes[c - 1].every((x) => x < 0) ? 1 : 0;

  const emptyLabel: EngineFieldError[] = [];
  const duplicates: EngineFieldError[] = [];
  let firstDuplicate = "";
  for (let r = sep + 1; r <= lastRow; r++) {
    const row = rows[r];
    if (rowIsEmpty(row)) continue;
    const label = labelOf(row[0]);
    if (label === "") {
      let c = 1;
      while (c <= lastCol && isEmptyCell(row[c])) c++;
      if (c <= lastCol) {
        emptyLabel.push({
          path: `/rows/${r + 1}`,
          message: `${rowRef(grid, r)} has data but no ${SUBJECT} label`,
        });
      }
      continue;
    }
    checkLabel(label, limits);
    const subjectCode = builder.subjectEncoder.code(label);
    for (let c = 1; c <= lastCol && c < row.length; c++) {
      const cell = row[c];
      if (isUncachedFormula(cell)) {
        warnings.add(
          "FORMULA_NOT_CACHED",
          "formula cells without a cached result were read as empty",
          a1(r, c),
        );
        continue;
      }
      const v = cellValue(cell);
      if (v === undefined) continue;
      if (isErrorCell(cell))
        warnings.add("EXCEL_ERROR_CELL", "Excel error cells were read as null", cellRef(grid, r, c));
      if (typeof v === "string") checkLabel(v, limits);
      if (headerless[c - 1])
        warnings.add("COLUMN_WITHOUT_HEADER", "a data column has no header values", a1(r, c));
      const combo = subjectCode * nKeys + colKey[c - 1];
      const prev = seenCombo instanceof Int32Array ? seenCombo[combo] : (seenCombo.get(combo) ?? -1);
      if (prev >= 0) {
        if (duplicates.length < 10) {
          const prevCell = cellRef(grid, Math.floor(prev / (lastCol + 1)), prev % (lastCol + 1));
          const axes = axisNames.map((n, h) => {
            const code = colCodes[c - 1][h];
            return `${n}=${code < 0 ? "null" : builder.axisEncoders[h].dict[code]}`;
          });
          const msg = `${SUBJECT} ${label} with ${axes.join(", ")} occurs in ${prevCell} and ${cellRef(grid, r, c)}`;
          if (!firstDuplicate) firstDuplicate = msg;
          duplicates.push({ path: `/cells/${a1(r, c)}`, message: msg });
        }
        continue;
      }
      if (seenCombo instanceof Int32Array) seenCombo[combo] = r * (lastCol + 1) + c;
      else seenCombo.set(combo, r * (lastCol + 1) + c);
      builder.pushCodes(colCodes[c - 1], subjectCode, v);
    }
  }
  if (emptyLabel.length) throw sheetParseError("EMPTY_SUBJECT_LABEL", emptyLabel[0].message, emptyLabel);
  if (duplicates.length) throw sheetParseError("DUPLICATE_COMBINATION", firstDuplicate, duplicates);
  if (builder.rowCount === 0)
    throw sheetParseError("NO_DATA_ROWS", `no data cells below ${rowRef(grid, sep)}`);
  if (builder.rowCount > limits.maxRows) throw limitExceeded("rows", limits.maxRows, builder.rowCount);
  return {
    sheetName: grid.name,
    shape: "hierarchical",
    axes: axisNames,
    frame: builder.build(),
    warnings: warnings.list(),
  };
}

function parseLong(grid: SheetGrid, limits: EngineLimits): ParsedSheet {
  const rows = grid.rows;
  let first = 0;
  while (first < rows.length && rowIsEmpty(rows[first])) first++;
  if (first >= rows.length) throw sheetParseError("NO_HEADER_ROWS", "the sheet is empty");
  const headerRow = rows[first];
  const width = grid.lines ? headerRow.length : rows.reduce((w, r) => Math.max(w, r.length), 0);
  const names: string[] = [];
  for (let c = 0; c < width; c++) names.push(labelOf(headerRow[c]));
  // An unnamed column is allowed only when it is empty in every row; it is dropped.
  const dropped = new Uint8Array(width);
  for (let c = 0; c < width; c++) {
    if (names[c] !== "") continue;
    let empty = true;
    for (let r = first + 1; r < rows.length && empty; r++) if (!isEmptyCell(rows[r][c])) empty = false;
    if (!empty) {
      throw sheetParseError("EMPTY_AXIS_NAME", `column ${a1(first, c)} has values but no name`, [
        { path: `/columns/${c}`, message: `empty header in ${cellRef(grid, first, c)}` },
      ]);
    }
    dropped[c] = 1;
  }
  const subjectCol = names.indexOf(SUBJECT);
  const valueCol = names.indexOf(VALUE);
  if (
    subjectCol < 0 ||
    valueCol < 0 ||
    names.lastIndexOf(SUBJECT) !== subjectCol ||
    names.lastIndexOf(VALUE) !== valueCol
  ) {
    throw sheetParseError(
      "NO_HEADER_ROWS",
      `the long format needs exactly one ${SUBJECT} and one ${VALUE} column in ${rowRef(grid, first)}`,
    );
  }
  const axisCols: number[] = [];
  for (let c = 0; c < width; c++) if (!dropped[c] && c !== subjectCol && c !== valueCol) axisCols.push(c);
  const axisNames = axisCols.map((c) => names[c]);
  checkAxisNames(
    axisNames,
    axisCols.map((c) => cellRef(grid, first, c)),
    limits,
  );

  const builder = new FrameBuilder(axisNames, Math.max(16, rows.length - first));
  const sourceRow: number[] = [];
  const warnings = new WarningCounter();
  const emptyLabel: EngineFieldError[] = [];
  const malformed: EngineFieldError[] = [];
  const codes = new Array<number>(axisCols.length);
  const axisEnc = builder.axisEncoders;
  const subjEnc = builder.subjectEncoder;
  for (let r = first + 1; r < rows.length; r++) {
    const row = rows[r];
    if (grid.lines && row.length > width && row.slice(width).some((x) => !isEmptyCell(x))) {
      malformed.push({
        path: `/lines/${grid.lines[r]}`,
        message: `${rowRef(grid, r)} has ${row.length} fields, the header ${width}`,
      });
      continue;
    }
    if (rowIsEmpty(row)) continue;
    const cell = row[valueCol];
    if (isUncachedFormula(cell)) {
      warnings.add(
        "FORMULA_NOT_CACHED",
        "formula cells without a cached result were read as empty",
        a1(r, valueCol),
      );
      continue;
    }
    const v = cellValue(cell);
    if (v === undefined) continue;
    if (isErrorCell(cell))
      warnings.add("EXCEL_ERROR_CELL", "Excel error cells were read as null", cellRef(grid, r, valueCol));
    const label = labelOf(row[subjectCol]);
    if (label === "") {
      emptyLabel.push({
        path: `/rows/${r + 1}`,
        message: `${rowRef(grid, r)} has a value but no ${SUBJECT}`,
      });
      continue;
    }
    if (label.length > limits.maxLabelLength) checkLabel(label, limits);
    if (typeof v === "string") checkLabel(v, limits);
    for (let j = 0; j < axisCols.length; j++) {
      const l = labelOf(row[axisCols[j]]);
      if (l.length > limits.maxLabelLength) checkLabel(l, limits);
      codes[j] = axisEnc[j].code(l === "" ? null : l);
    }
    builder.pushCodes(codes, subjEnc.code(label), v);
    sourceRow.push(r);
  }
  if (malformed.length) throw sheetParseError("CSV_MALFORMED", malformed[0].message, malformed);
  if (emptyLabel.length) throw sheetParseError("EMPTY_SUBJECT_LABEL", emptyLabel[0].message, emptyLabel);
  if (builder.rowCount === 0)
    throw sheetParseError("NO_DATA_ROWS", `no records below ${rowRef(grid, first)}`);
  const frame = builder.build();
  const dups = findDuplicates(frame, 10);
  if (dups.length) {
    const errors = dups.map(([a, b]) => {
      const subject = frame.subject.dict[frame.subject.codes[b]];
      return {
        path: `/rows/${sourceRow[b] + 1}`,
        message: `${SUBJECT} ${subject} with the same axis values on ${rowRef(grid, sourceRow[a])} and ${rowRef(grid, sourceRow[b])}`,
      };
    });
    throw sheetParseError("DUPLICATE_COMBINATION", errors[0].message, errors);
  }
  if (frame.rowCount > limits.maxRows) throw limitExceeded("rows", limits.maxRows, frame.rowCount);
  return { sheetName: grid.name, shape: "long", axes: axisNames, frame, warnings: warnings.list() };
}

/** Pairs (first row, repeated row) of equal (axis values, 科目), at most `max`. */
export function findDuplicates(f: Frame, max = Number.POSITIVE_INFINITY): [number, number][] {
  const cols = [...f.axes, f.subject];
  const g = groupRows(
    cols.map((c) => c.codes),
    cols.map((c) => c.dict.length),
    f.rowCount,
  );
  const out: [number, number][] = [];
  const seen = new Uint8Array(g.count);
  for (let i = 0; i < f.rowCount && out.length < max; i++) {
    const id = g.ids[i];
    if (seen[id]) out.push([g.firstRow[id], i]);
    else seen[id] = 1;
  }
  return out;
}

/** Number of rows that repeat an earlier (axis values, 科目) combination (`duplicateCombinations`). */
export const countDuplicates = (f: Frame): number => findDuplicates(f).length;
