import { constants, deflateRawSync } from "node:zlib";

/*
 * A minimal zip writer for hostile archives: parts given as ready deflate streams, with the
 * uncompressed size the central directory should declare (honest or not). CRCs are left 0: no
 * reader under test checks them before inflating.
 */

type Part = { name: string; data: Uint8Array; method: 0 | 8; declaredSize: number };

export function zip(parts: Part[]): Uint8Array {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const p of parts) {
    const name = enc.encode(p.name);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(8, p.method, true);
    local.setUint32(18, p.data.length, true);
    local.setUint32(22, p.declaredSize, true);
    local.setUint16(26, name.length, true);
    chunks.push(new Uint8Array(local.buffer), name, p.data);
    const cd = new DataView(new ArrayBuffer(46));
    cd.setUint32(0, 0x02014b50, true);
    cd.setUint16(4, 20, true);
    cd.setUint16(6, 20, true);
    cd.setUint16(10, p.method, true);
    cd.setUint32(20, p.data.length, true);
    cd.setUint32(24, p.declaredSize, true);
    cd.setUint16(28, name.length, true);
    cd.setUint32(42, offset, true);
    central.push(new Uint8Array(cd.buffer), name);
    offset += 30 + name.length + p.data.length;
  }
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const eocd = new DataView(new ArrayBuffer(22));
  eocd.setUint32(0, 0x06054b50, true);
  eocd.setUint16(8, parts.length, true);
  eocd.setUint16(10, parts.length, true);
  eocd.setUint32(12, cdSize, true);
  eocd.setUint32(16, offset, true);
  const all = [...chunks, ...central, new Uint8Array(eocd.buffer)];
  const out = new Uint8Array(all.reduce((n, c) => n + c.length, 0));
  let p = 0;
  for (const c of all) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/**
 * A raw deflate stream that inflates to `mib` MiB of spaces, built in milliseconds: one
 * sync-flushed block of 16 MiB (byte-aligned, self-contained: a literal then distance-1
 * matches) repeated, then an empty final block.
 */
export function deflateBomb(mib: number): Uint8Array {
  const block = deflateRawSync(Buffer.alloc(16 * 1024 * 1024, 0x20), {
    level: 9,
    finishFlush: constants.Z_SYNC_FLUSH,
  });
  const end = deflateRawSync(Buffer.alloc(0));
  const n = Math.ceil(mib / 16);
  const out = new Uint8Array(block.length * n + end.length);
  for (let i = 0; i < n; i++) out.set(block, i * block.length);
  out.set(end, block.length * n);
  return out;
}

const stored = (name: string, text: string): Part => {
  const data = new TextEncoder().encode(text);
  return { name, data, method: 0, declaredSize: data.length };
};

/** An xlsx whose sheet (or workbook part) is a bomb; `honest` says whether the directory admits it. */
export function bombWorkbook(opts: {
  mib: number;
  honest: boolean;
  target: "sheet" | "workbook";
}): Uint8Array {
  const bomb = deflateBomb(opts.mib);
  const size = (real: number) => (opts.honest ? Math.min(real, 0xfffffffe) : 1000);
  const workbook =
    '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>';
  const parts: Part[] = [
    stored(
      "[Content_Types].xml",
      '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    ),
    stored(
      "_rels/.rels",
      '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    ),
    opts.target === "workbook"
      ? { name: "xl/workbook.xml", data: bomb, method: 8, declaredSize: size(opts.mib * 1024 * 1024) }
      : stored("xl/workbook.xml", workbook),
    stored(
      "xl/_rels/workbook.xml.rels",
      '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    ),
    opts.target === "sheet"
      ? {
          name: "xl/worksheets/sheet1.xml",
          data: bomb,
          method: 8,
          declaredSize: size(opts.mib * 1024 * 1024),
        }
      : stored("xl/worksheets/sheet1.xml", "<worksheet/>"),
  ];
  return zip(parts);
}
