import { inflateRawSync } from "node:zlib";
import { zipEntryNames } from "@/lib/file-types";

/*
 * Sheet names and row counts of a workbook or CSV, for version comparison. Reads only the zip
 * directory, `xl/workbook.xml` and each sheet's `<dimension>`, not the cells.
 */

export type Outline = { sheets: string[]; rows: Record<string, number> };

type Entry = { name: string; method: number; compressed: number; offset: number };

function entries(buf: Uint8Array): Entry[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const names = zipEntryNames(buf) ?? [];
  let eocd = -1;
  for (let i = buf.length - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return [];
  let p = view.getUint32(eocd + 16, true);
  const out: Entry[] = [];
  for (let k = 0; k < names.length && view.getUint32(p, true) === 0x02014b50; k++) {
    const method = view.getUint16(p + 10, true);
    const compressed = view.getUint32(p + 20, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const offset = view.getUint32(p + 42, true);
    out.push({ name: names[k], method, compressed, offset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

function read(buf: Uint8Array, e: Entry): string {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const nameLen = view.getUint16(e.offset + 26, true);
  const extraLen = view.getUint16(e.offset + 28, true);
  const start = e.offset + 30 + nameLen + extraLen;
  const data = buf.subarray(start, start + e.compressed);
  const raw = e.method === 8 ? inflateRawSync(data) : data;
  return new TextDecoder().decode(raw);
}

const unescapeXml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

function rowsFromDimension(xml: string): number {
  const m = /<dimension[^>]*ref="[A-Z]+(\d+)(?::[A-Z]+(\d+))?"/.exec(xml);
  if (!m) return 0;
  const first = Number(m[1]);
  const last = Number(m[2] ?? m[1]);
  return last - first + 1;
}

export function workbookOutline(buf: Uint8Array): Outline | null {
  const list = entries(buf);
  const byName = new Map(list.map((e) => [e.name, e]));
  const wb = byName.get("xl/workbook.xml");
  const rels = byName.get("xl/_rels/workbook.xml.rels");
  if (!wb) return null;
  const workbook = read(buf, wb);
  const targets = new Map<string, string>();
  if (rels) {
    for (const m of read(buf, rels).matchAll(/<Relationship\b[^>]*>/g)) {
      const id = /Id="([^"]+)"/.exec(m[0])?.[1];
      const target = /Target="([^"]+)"/.exec(m[0])?.[1];
      if (id && target) targets.set(id, target.replace(/^\/?(xl\/)?/, "xl/"));
    }
  }
  const sheets: string[] = [];
  const rows: Record<string, number> = {};
  for (const m of workbook.matchAll(/<sheet\b[^>]*>/g)) {
    const name = unescapeXml(/name="([^"]*)"/.exec(m[0])?.[1] ?? "");
    const rid = /r:id="([^"]+)"/.exec(m[0])?.[1];
    sheets.push(name);
    const entry = rid ? byName.get(targets.get(rid) ?? "") : undefined;
    rows[name] = entry ? rowsFromDimension(read(buf, entry)) : 0;
  }
  return { sheets, rows };
}

export function csvOutline(buf: Uint8Array): Outline {
  let lines = 0;
  let inQuotes = false;
  let sawContent = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x22) inQuotes = !inQuotes;
    if (!inQuotes && (c === 0x0a || (c === 0x0d && buf[i + 1] !== 0x0a))) {
      if (sawContent) lines++;
      sawContent = false;
    } else if (c !== 0x0d) sawContent = true;
  }
  if (sawContent) lines++;
  return { sheets: ["CSV"], rows: { CSV: lines } };
}
