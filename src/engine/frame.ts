/*
 * The columnar frame (analysis.md §1.1 "engine representation"): axis columns and 科目 are
 * dictionary-encoded (codes -1 = null, in the narrowest signed array the dictionary fits: Int8
 * up to 127 values, Int16 up to 32,767, else Int32 — like pandas' categorical codes, so a
 * 1M-row frame of small dictionaries costs 14 MB, not 25), 値 is a Float64Array with a per-row kind byte
 * (null / number / text) and a sparse map for text values. Frames are immutable once built, so
 * steps share arrays and dictionaries freely.
 */
import { SUBJECT, VALUE } from "@/engine/contract";

/** Dictionary codes; -1 = null. Readers index them like any array; writers use `codeArray`. */
export type CodeArray = Int8Array | Int16Array | Int32Array;

/** An array for `n` codes of a dictionary of `dictSize` entries (and -1). */
export function codeArray(dictSize: number, n: number): CodeArray {
  if (dictSize <= 127) return new Int8Array(n);
  if (dictSize <= 32767) return new Int16Array(n);
  return new Int32Array(n);
}

/** The first `n` of `codes` in the narrowest array for `dictSize`. */
export function narrowCodes(codes: ArrayLike<number>, n: number, dictSize: number): CodeArray {
  const out = codeArray(dictSize, n);
  if (out instanceof Int32Array && codes instanceof Int32Array) out.set(codes.subarray(0, n));
  else for (let i = 0; i < n; i++) out[i] = codes[i];
  return out;
}

export type DictColumn = {
  readonly name: string;
  readonly codes: CodeArray;
  readonly dict: readonly string[];
};

export const KIND_NULL = 0;
export const KIND_NUMBER = 1;
export const KIND_TEXT = 2;

export type Frame = {
  readonly rowCount: number;
  readonly axes: readonly DictColumn[];
  readonly subject: DictColumn;
  /** KIND_NULL / KIND_NUMBER / KIND_TEXT per row: the null map of 値. */
  readonly kinds: Uint8Array;
  /** The number when kinds[i] = KIND_NUMBER, otherwise 0. */
  readonly values: Float64Array;
  /** Row index → text 値, only for rows of KIND_TEXT. */
  readonly text: ReadonlyMap<number, string>;
};

export type CellValue = string | number | null;
export type Row = Record<string, CellValue>;

export const axisNames = (f: Frame): string[] => f.axes.map((a) => a.name);
export const columnNames = (f: Frame): string[] => [...axisNames(f), SUBJECT, VALUE];

/** A dictionary column (axis or 科目) by name. */
export function dictColumn(f: Frame, name: string): DictColumn | undefined {
  if (name === SUBJECT) return f.subject;
  return f.axes.find((a) => a.name === name);
}

export function labelAt(col: DictColumn, row: number): string | null {
  const c = col.codes[row];
  return c < 0 ? null : col.dict[c];
}

export function valueAt(f: Frame, row: number): CellValue {
  const k = f.kinds[row];
  if (k === KIND_NUMBER) return f.values[row];
  if (k === KIND_TEXT) return f.text.get(row) ?? null;
  return null;
}

/** Interns strings into a dictionary in first-appearance order. */
export class DictEncoder {
  readonly dict: string[] = [];
  private readonly index = new Map<string, number>();

  code(label: string | null): number {
    if (label === null) return -1;
    let c = this.index.get(label);
    if (c === undefined) {
      c = this.dict.length;
      this.dict.push(label);
      this.index.set(label, c);
    }
    return c;
  }

  lookup(label: string): number | undefined {
    return this.index.get(label);
  }

  static from(dict: readonly string[]): DictEncoder {
    const e = new DictEncoder();
    for (const s of dict) e.code(s);
    return e;
  }
}

export class GrowableInt32 {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
  /** The codes in the narrowest array for a dictionary of `dictSize` entries. */
  toCodes(dictSize: number): CodeArray {
    return narrowCodes(this.data, this.length, dictSize);
  }
}

/** Row-wise frame construction for parsers and steps that emit new rows. */
export class FrameBuilder {
  readonly axisEncoders: DictEncoder[];
  readonly subjectEncoder: DictEncoder;
  private readonly axisCodes: GrowableInt32[];
  private readonly subjectCodes: GrowableInt32;
  private kinds: Uint8Array;
  private values: Float64Array;
  private readonly text = new Map<number, string>();
  rowCount = 0;

  constructor(
    readonly axisNames: readonly string[],
    capacity = 1024,
    axisEncoders?: DictEncoder[],
    subjectEncoder?: DictEncoder,
  ) {
    this.axisEncoders = axisEncoders ?? axisNames.map(() => new DictEncoder());
    this.subjectEncoder = subjectEncoder ?? new DictEncoder();
    this.axisCodes = axisNames.map(() => new GrowableInt32(capacity));
    this.subjectCodes = new GrowableInt32(capacity);
    this.kinds = new Uint8Array(Math.max(16, capacity));
    this.values = new Float64Array(Math.max(16, capacity));
  }

  private grow(): void {
    const k = new Uint8Array(this.kinds.length * 2);
    k.set(this.kinds);
    this.kinds = k;
    const v = new Float64Array(this.values.length * 2);
    v.set(this.values);
    this.values = v;
  }

  /** Appends a row from axis codes (already encoded), a subject code and a value. */
  pushCodes(axisCodes: ArrayLike<number>, subjectCode: number, value: CellValue): number {
    const i = this.rowCount;
    if (i === this.kinds.length) this.grow();
    for (let j = 0; j < this.axisCodes.length; j++) this.axisCodes[j].push(axisCodes[j]);
    this.subjectCodes.push(subjectCode);
    this.setValue(i, value);
    this.rowCount++;
    return i;
  }

  pushLabels(axisLabels: readonly (string | null)[], subject: string, value: CellValue): number {
    const codes = new Array<number>(axisLabels.length);
    for (let j = 0; j < axisLabels.length; j++) codes[j] = this.axisEncoders[j].code(axisLabels[j]);
    return this.pushCodes(codes, this.subjectEncoder.code(subject), value);
  }

  private setValue(i: number, value: CellValue): void {
    if (typeof value === "number") {
      this.kinds[i] = KIND_NUMBER;
      this.values[i] = value === 0 ? 0 : value;
    } else if (typeof value === "string") {
      this.kinds[i] = KIND_TEXT;
      this.text.set(i, value);
    } else {
      this.kinds[i] = KIND_NULL;
    }
  }

  build(): Frame {
    const n = this.rowCount;
    return {
      rowCount: n,
      axes: this.axisNames.map((name, j) => ({
        name,
        codes: this.axisCodes[j].toCodes(this.axisEncoders[j].dict.length),
        dict: this.axisEncoders[j].dict,
      })),
      subject: {
        name: SUBJECT,
        codes: this.subjectCodes.toCodes(this.subjectEncoder.dict.length),
        dict: this.subjectEncoder.dict,
      },
      kinds: this.kinds.slice(0, n),
      values: this.values.slice(0, n),
      text: this.text,
    };
  }
}

/** Builds a frame from records; used by tests, fixtures and `fromRows` callers. */
export function frameFromRows(axisNames: readonly string[], rows: readonly Row[]): Frame {
  const b = new FrameBuilder(axisNames, rows.length);
  for (const r of rows) {
    b.pushLabels(
      axisNames.map((a) => (r[a] === null || r[a] === undefined ? null : String(r[a]))),
      String(r[SUBJECT]),
      r[VALUE] ?? null,
    );
  }
  return b.build();
}

/** The rows at `rows` (ascending or not), sharing dictionaries. */
export function take(f: Frame, rows: Int32Array): Frame {
  const n = rows.length;
  const pick = (codes: CodeArray, dictSize: number) => {
    const out = codeArray(dictSize, n);
    for (let i = 0; i < n; i++) out[i] = codes[rows[i]];
    return out;
  };
  const kinds = new Uint8Array(n);
  const values = new Float64Array(n);
  const text = new Map<number, string>();
  const srcKinds = f.kinds;
  const srcValues = f.values;
  const hasText = f.text.size > 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    const k = srcKinds[r];
    kinds[i] = k;
    values[i] = srcValues[r];
    if (hasText && k === KIND_TEXT) text.set(i, f.text.get(r)!);
  }
  return {
    rowCount: n,
    axes: f.axes.map((a) => ({ name: a.name, codes: pick(a.codes, a.dict.length), dict: a.dict })),
    subject: { name: SUBJECT, codes: pick(f.subject.codes, f.subject.dict.length), dict: f.subject.dict },
    kinds,
    values,
    text,
  };
}

/** Codes of `col` that occur in the data (dictionaries may hold entries that filters removed). */
export function usedCodes(col: DictColumn): { mask: Uint8Array; hasNull: boolean } {
  const mask = new Uint8Array(col.dict.length);
  let hasNull = false;
  const codes = col.codes;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c < 0) hasNull = true;
    else mask[c] = 1;
  }
  return { mask, hasNull };
}

/** Distinct values in first-appearance order. */
export function distinctValues(col: DictColumn): (string | null)[] {
  const seen = new Uint8Array(col.dict.length);
  let nullSeen = false;
  const out: (string | null)[] = [];
  const codes = col.codes;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c < 0) {
      if (!nullSeen) {
        nullSeen = true;
        out.push(null);
      }
    } else if (!seen[c]) {
      seen[c] = 1;
      out.push(col.dict[c]);
    }
  }
  return out;
}

/** Re-encodes a column so the dictionary holds only used values, in first-appearance order. */
export function compactColumn(col: DictColumn): DictColumn {
  const remap = new Int32Array(col.dict.length).fill(-1);
  const dict: string[] = [];
  const codes = new Int32Array(col.codes.length);
  for (let i = 0; i < codes.length; i++) {
    const c = col.codes[i];
    if (c < 0) {
      codes[i] = -1;
      continue;
    }
    let m = remap[c];
    if (m < 0) {
      m = dict.length;
      remap[c] = m;
      dict.push(col.dict[c]);
    }
    codes[i] = m;
  }
  return { name: col.name, codes, dict };
}

export function materialiseRows(f: Frame, offset = 0, limit = f.rowCount): Row[] {
  const end = Math.min(f.rowCount, Math.max(0, offset) + Math.max(0, limit));
  const out: Row[] = [];
  for (let i = Math.max(0, offset); i < end; i++) {
    const r: Row = {};
    for (const a of f.axes) r[a.name] = labelAt(a, i);
    r[SUBJECT] = labelAt(f.subject, i);
    r[VALUE] = valueAt(f, i);
    out.push(r);
  }
  return out;
}

export type ColumnarJson = {
  format: "columnar-v1";
  hash: string;
  rowCount: number;
  columns: string[];
  dict: Record<string, string[]>;
  codes: Record<string, number[]>;
  values: (number | null)[];
  text: Record<string, string>;
};

/** The §1.10 storage layout; dictionaries compacted to first appearance, so output is canonical. */
export function toColumnarJson(f: Frame, hash = dataHash(f)): ColumnarJson {
  const dict: Record<string, string[]> = {};
  const codes: Record<string, number[]> = {};
  for (const col of [...f.axes, f.subject]) {
    const c = compactColumn(col);
    dict[col.name] = c.dict as string[];
    codes[col.name] = Array.from(c.codes);
  }
  const values = new Array<number | null>(f.rowCount);
  const text: Record<string, string> = {};
  for (let i = 0; i < f.rowCount; i++) {
    const k = f.kinds[i];
    values[i] = k === KIND_NUMBER ? f.values[i] : null;
    if (k === KIND_TEXT) text[String(i)] = f.text.get(i)!;
  }
  return {
    format: "columnar-v1",
    hash,
    rowCount: f.rowCount,
    columns: columnNames(f),
    dict,
    codes,
    values,
    text,
  };
}

export function fromColumnarJson(j: ColumnarJson): Frame {
  if (j.format !== "columnar-v1") throw new Error(`unsupported data format ${String(j.format)}`);
  const n = j.rowCount;
  const names = j.columns.filter((c) => c !== SUBJECT && c !== VALUE);
  const col = (name: string): DictColumn => {
    const dict = j.dict[name] ?? [];
    const src = j.codes[name] ?? [];
    return { name, codes: narrowCodes(src, src.length, dict.length), dict };
  };
  const kinds = new Uint8Array(n);
  const values = new Float64Array(n);
  const text = new Map<number, string>();
  for (let i = 0; i < n; i++) {
    const v = j.values[i];
    if (typeof v === "number" && Number.isFinite(v)) {
      kinds[i] = KIND_NUMBER;
      values[i] = v;
    }
  }
  for (const [k, v] of Object.entries(j.text ?? {})) {
    const i = Number(k);
    kinds[i] = KIND_TEXT;
    values[i] = 0;
    text.set(i, v);
  }
  return { rowCount: n, axes: names.map(col), subject: col(SUBJECT), kinds, values, text };
}

const enc = new TextEncoder();

/**
 * SHA-256 of the canonical serialisation: column names in order, then per column the compacted
 * (first-appearance) dictionary and its codes, then the value kinds, the numbers (0 where not a
 * number) and the text values by row. Compaction makes the dictionary a function of the column's
 * content, so the same table read from xlsx or CSV hashes the same.
 */
export function dataHash(f: Frame): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(`columnar-v1\n${f.rowCount}\n${JSON.stringify(columnNames(f))}\n`);
  // The compacted codes and the numbers are hashed through one fixed chunk buffer instead of
  // full-length copies: hashing a 1M-row frame used to allocate 24 MB of temporary arrays.
  const chunk = new ArrayBuffer(HASH_CHUNK * 8);
  const codesChunk = new Int32Array(chunk, 0, HASH_CHUNK);
  const valuesChunk = new Float64Array(chunk, 0, HASH_CHUNK);
  for (const col of [...f.axes, f.subject]) {
    const remap = new Int32Array(col.dict.length).fill(-1);
    const dict: string[] = [];
    const codes = col.codes;
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c >= 0 && remap[c] < 0) {
        remap[c] = dict.length;
        dict.push(col.dict[c]);
      }
    }
    h.update(`${JSON.stringify(dict)}\n`);
    for (let start = 0; start < codes.length; start += HASH_CHUNK) {
      const end = Math.min(codes.length, start + HASH_CHUNK);
      for (let i = start; i < end; i++) {
        const c = codes[i];
        codesChunk[i - start] = c < 0 ? -1 : remap[c];
      }
      h.update(new Uint8Array(chunk, 0, (end - start) * 4));
    }
  }
  h.update(f.kinds);
  for (let start = 0; start < f.rowCount; start += HASH_CHUNK) {
    const end = Math.min(f.rowCount, start + HASH_CHUNK);
    for (let i = start; i < end; i++)
      valuesChunk[i - start] = f.kinds[i] === KIND_NUMBER ? f.values[i] + 0 : 0;
    h.update(new Uint8Array(chunk, 0, (end - start) * 8));
  }
  const texts: [number, string][] = [...f.text.entries()].sort((a, b) => a[0] - b[0]);
  h.update(enc.encode(JSON.stringify(texts)));
  return h.digest("hex");
}

const HASH_CHUNK = 1 << 14;

/** Approximate retained bytes, for the byte-bounded LRU. */
export function frameBytes(f: Frame): number {
  let bytes = f.kinds.byteLength + f.values.byteLength + f.subject.codes.byteLength + 64;
  for (const a of f.axes) bytes += a.codes.byteLength;
  const dictBytes = (d: readonly string[]) => d.reduce((s, x) => s + 2 * x.length + 16, 0);
  for (const a of f.axes) bytes += dictBytes(a.dict);
  bytes += dictBytes(f.subject.dict);
  for (const t of f.text.values()) bytes += 2 * t.length + 32;
  return bytes;
}
