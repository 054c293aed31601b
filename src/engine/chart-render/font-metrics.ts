/*
 * Advance widths straight from a TrueType/OpenType file (cmap + hmtx), so the SVG layout is
 * measured with the same font resvg draws. No shaping or kerning: chart labels are short and CJK
 * glyphs are fixed-width, so plain advances are within a pixel or two of the shaped width.
 */

export type FontMetrics = {
  unitsPerEm: number;
  /** Glyph id of a code point; 0 (.notdef) when the font has no glyph for it. */
  glyphId(codePoint: number): number;
  /** Width in pixels of `text` set at `size` px. */
  measure(text: string, size: number): number;
};

type Cmap = (cp: number) => number;

function tableDirectory(view: DataView): Map<string, { offset: number; length: number }> {
  const tag = view.getUint32(0);
  // 0x00010000 = TrueType outlines, "OTTO" = CFF outlines; collections (ttcf) are not supported.
  if (tag !== 0x00010000 && tag !== 0x4f54544f) throw new Error("not a TrueType/OpenType font file");
  const count = view.getUint16(4);
  const tables = new Map<string, { offset: number; length: number }>();
  for (let i = 0; i < count; i++) {
    const rec = 12 + i * 16;
    const name = String.fromCharCode(
      view.getUint8(rec),
      view.getUint8(rec + 1),
      view.getUint8(rec + 2),
      view.getUint8(rec + 3),
    );
    tables.set(name, { offset: view.getUint32(rec + 8), length: view.getUint32(rec + 12) });
  }
  return tables;
}

function format12(view: DataView, at: number): Cmap {
  const groups = view.getUint32(at + 12);
  const base = at + 16;
  return (cp) => {
    let lo = 0;
    let hi = groups - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const g = base + mid * 12;
      const start = view.getUint32(g);
      const end = view.getUint32(g + 4);
      if (cp < start) hi = mid - 1;
      else if (cp > end) lo = mid + 1;
      else return view.getUint32(g + 8) + (cp - start);
    }
    return 0;
  };
}

function format4(view: DataView, at: number): Cmap {
  const segs = view.getUint16(at + 6) >> 1;
  const ends = at + 14;
  const starts = ends + segs * 2 + 2;
  const deltas = starts + segs * 2;
  const ranges = deltas + segs * 2;
  return (cp) => {
    if (cp > 0xffff) return 0;
    let lo = 0;
    let hi = segs - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (view.getUint16(ends + mid * 2) < cp) lo = mid + 1;
      else hi = mid;
    }
    const start = view.getUint16(starts + lo * 2);
    if (cp < start || cp > view.getUint16(ends + lo * 2)) return 0;
    const delta = view.getInt16(deltas + lo * 2);
    const rangeAt = ranges + lo * 2;
    const range = view.getUint16(rangeAt);
    if (range === 0) return (cp + delta) & 0xffff;
    const g = view.getUint16(rangeAt + range + (cp - start) * 2);
    return g === 0 ? 0 : (g + delta) & 0xffff;
  };
}

function readCmap(view: DataView, offset: number): Cmap {
  const count = view.getUint16(offset + 2);
  let best: { rank: number; at: number; format: number } | null = null;
  for (let i = 0; i < count; i++) {
    const rec = offset + 4 + i * 8;
    const platform = view.getUint16(rec);
    const encoding = view.getUint16(rec + 2);
    const at = offset + view.getUint32(rec + 4);
    const format = view.getUint16(at);
    if (format !== 4 && format !== 12) continue;
    // Prefer the full-Unicode table (3,10 / 0,4+) over the BMP-only one.
    const rank = format === 12 ? 2 : platform === 3 && encoding === 1 ? 1 : platform === 0 ? 1 : 0;
    if (!best || rank > best.rank) best = { rank, at, format };
  }
  if (!best) throw new Error("the font has no Unicode cmap (format 4 or 12)");
  return best.format === 12 ? format12(view, best.at) : format4(view, best.at);
}

export function parseFontMetrics(bytes: Uint8Array): FontMetrics {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = tableDirectory(view);
  const need = (name: string) => {
    const t = tables.get(name);
    if (!t || t.offset + t.length > bytes.byteLength) throw new Error(`the font has no valid ${name} table`);
    return t.offset;
  };
  const unitsPerEm = view.getUint16(need("head") + 18);
  const metricCount = view.getUint16(need("hhea") + 34);
  const hmtx = need("hmtx");
  const cmap = readCmap(view, need("cmap"));
  if (!unitsPerEm || !metricCount) throw new Error("the font has invalid head/hhea tables");
  // Glyphs past numberOfHMetrics share the last advance (monospaced tail, common in CJK fonts).
  const advanceOf = (glyph: number) => view.getUint16(hmtx + Math.min(glyph, metricCount - 1) * 4);
  const cache = new Map<number, number>();
  const advance = (cp: number) => {
    let a = cache.get(cp);
    if (a === undefined) {
      a = advanceOf(cmap(cp));
      cache.set(cp, a);
    }
    return a;
  };
  return {
    unitsPerEm,
    glyphId: cmap,
    measure(text, size) {
      let units = 0;
      for (const ch of text) units += advance(ch.codePointAt(0)!);
      return (units * size) / unitsPerEm;
    },
  };
}
