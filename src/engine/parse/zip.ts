/*
 * The one zip central-directory reader of the repository (upload sniffing, workbook reading and
 * version comparison all go through it). Every inflation is bounded: a part may never produce
 * more than what is left of the caller's uncompressed budget, so a directory that lies about
 * sizes still cannot inflate a bomb.
 *
 * The directory is located from the end-of-central-directory record as `eocd - cdSize`, not by
 * the stored offset, so the same reader works on an archive's tail (upload sniffing keeps only
 * the last MiB) and on archives with bytes prepended; local-header offsets are shifted by the
 * difference.
 */
import { constants, inflateRawSync } from "node:zlib";
import { EngineError, limitExceeded } from "@/engine/errors";

export type ZipEntry = { name: string; method: number; compressedSize: number; size: number; offset: number };

const notReadable = (detail: string) =>
  new EngineError("FILE_NOT_ANALYSABLE", 422, detail, { allowed: ["xlsx", "xlsm", "csv", "txt"] });

/** The central directory; null when the bytes are not a zip, "zip64" for ZIP64 archives. */
export function zipDirectory(buf: Uint8Array): ZipEntry[] | "zip64" | null {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = -1;
  const stop = Math.max(0, buf.length - 22 - 65535);
  for (let i = buf.length - 22; i >= stop; i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return null;
  const count = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  // ZIP64 markers: sizes do not fit 32 bits, far above any configured limit.
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) return "zip64";
  let p = eocd - cdSize;
  if (p < 0) return null;
  const shift = p - cdOffset;
  const entries: ZipEntry[] = [];
  const utf8 = new TextDecoder();
  for (let k = 0; k < count; k++) {
    if (p + 46 > eocd || view.getUint32(p, true) !== 0x02014b50) return null;
    const nameLength = view.getUint16(p + 28, true);
    const compressedSize = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const offset = view.getUint32(p + 42, true);
    if (size === 0xffffffff || compressedSize === 0xffffffff || offset === 0xffffffff) return "zip64";
    entries.push({
      name: utf8.decode(buf.subarray(p + 46, p + 46 + nameLength)),
      method: view.getUint16(p + 10, true),
      compressedSize,
      size,
      offset: offset + shift,
    });
    p += 46 + nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  return entries;
}

/** Sum of the uncompressed sizes in the zip central directory; null when the bytes are not a zip. */
export function zipUncompressedSize(buf: Uint8Array): number | null {
  const dir = zipDirectory(buf);
  if (dir === null) return null;
  if (dir === "zip64") return Number.MAX_SAFE_INTEGER;
  return dir.reduce((s, e) => s + e.size, 0);
}

/** Inflates zip parts on demand; all parts together may not exceed `budget` bytes. */
export class ZipParts {
  private readonly byName = new Map<string, ZipEntry>();
  private used = 0;

  constructor(
    private readonly buf: Uint8Array,
    entries: ZipEntry[],
    private readonly budget: number,
  ) {
    for (const e of entries) this.byName.set(e.name, e);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  private compressed(name: string): { e: ZipEntry; data: Uint8Array } | null {
    const e = this.byName.get(name);
    if (!e) return null;
    const view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const h = e.offset;
    if (h < 0 || h + 30 > this.buf.length || view.getUint32(h, true) !== 0x04034b50)
      throw notReadable(`The workbook could not be read: bad zip entry ${name}`);
    const start = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true);
    return { e, data: this.buf.subarray(start, start + e.compressedSize) };
  }

  private charge(n: number): void {
    this.used += n;
    if (this.used > this.budget) throw limitExceeded("uncompressedBytes", this.budget, this.used);
  }

  read(name: string): Uint8Array | null {
    const part = this.compressed(name);
    if (!part) return null;
    const { e, data } = part;
    const left = this.budget - this.used;
    let out: Uint8Array;
    if (e.method === 0) {
      out = data;
    } else if (e.method === 8) {
      try {
        // One output chunk of the declared size: the default 16 KB chunks are concatenated at
        // the end, which doubled the transient memory of every part.
        out = inflateRawSync(data, {
          maxOutputLength: Math.max(1, left),
          // (At least 64 KiB: a directory that understates the size must not make it crawl.)
          chunkSize: Math.min(left + 1, Math.max(64 * 1024, e.size + 1)),
        });
      } catch (err) {
        if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
          throw limitExceeded("uncompressedBytes", this.budget, this.used + left + 1);
        }
        throw notReadable(`The workbook could not be read: ${(err as Error).message}`);
      }
    } else {
      throw notReadable(`The workbook could not be read: unsupported compression in ${name}`);
    }
    this.charge(out.length);
    return out;
  }

  /**
   * The first bytes of a part (at most `max`, possibly fewer), without inflating the rest: only
   * a prefix of the compressed stream is fed, so the work is bounded whatever the part's size.
   */
  readPrefix(name: string, max: number): Uint8Array | null {
    const part = this.compressed(name);
    if (!part) return null;
    const { e, data } = part;
    if (e.method === 0) {
      const out = data.subarray(0, max);
      this.charge(out.length);
      return out;
    }
    if (e.method !== 8)
      throw notReadable(`The workbook could not be read: unsupported compression in ${name}`);
    // Deflate expands at most ~1032:1, so this many input bytes cannot overflow `max` by much.
    let input = Math.max(64, Math.floor(max / 1032));
    let last: Uint8Array = new Uint8Array(0);
    for (;;) {
      let out: Uint8Array;
      try {
        out = inflateRawSync(data.subarray(0, input), {
          finishFlush: constants.Z_SYNC_FLUSH,
          maxOutputLength: max * 2,
        });
      } catch (err) {
        if ((err as { code?: string }).code !== "ERR_BUFFER_TOO_LARGE")
          throw notReadable(`The workbook could not be read: ${(err as Error).message}`);
        out = last;
        input = data.length;
      }
      if (out.length >= max || input >= data.length) {
        const prefix = out.subarray(0, max);
        this.charge(prefix.length);
        return prefix;
      }
      last = out;
      input *= 4;
    }
  }
}
