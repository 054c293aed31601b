import { type FileTypeResult, fileTypeFromBuffer } from "file-type";
import { zipDirectory } from "@/engine";
import { sanitiseFilename } from "@/lib/storage/keys";

/*
 * Accepted upload kinds (api.md §2.5): the extension AND the content signature must agree, and
 * the stored MIME type comes from this table, never from the client.
 */

export const FILE_KINDS = [
  "xlsx",
  "xlsm",
  "xls",
  "docx",
  "csv",
  "txt",
  "json",
  "pdf",
  "png",
  "jpeg",
  "gif",
] as const;
export type FileKind = (typeof FILE_KINDS)[number];

export const MIME: Record<FileKind, string> = {
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  xlsm: "application/vnd.ms-excel.sheet.macroEnabled.12",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xls: "application/vnd.ms-excel",
  csv: "text/csv",
  txt: "text/plain",
  json: "application/json",
  pdf: "application/pdf",
  png: "image/png",
  jpeg: "image/jpeg",
  gif: "image/gif",
};

const EXTENSIONS: Record<string, FileKind> = {
  xlsx: "xlsx",
  xlsm: "xlsm",
  docx: "docx",
  xls: "xls",
  csv: "csv",
  txt: "txt",
  json: "json",
  pdf: "pdf",
  png: "png",
  jpg: "jpeg",
  jpeg: "jpeg",
  gif: "gif",
};

export const SPREADSHEET_KINDS: readonly FileKind[] = ["xlsx", "xlsm", "xls", "csv"];

export function kindFromFilename(filename: string): FileKind | null {
  const dot = filename.lastIndexOf(".");
  if (dot < 0) return null;
  return EXTENSIONS[filename.slice(dot + 1).toLowerCase()] ?? null;
}

const HEAD_BYTES = 8 * 1024;
const TAIL_BYTES = 1024 * 1024;

/*
 * Binary kinds are recognised by `file-type`; each accepts the results its format family may
 * yield (an Illustrator file is a PDF, an animated PNG a PNG, JPEG-LS starts like a JPEG).
 */
const BINARY_FAMILIES: Partial<Record<FileKind, ReadonlySet<string>>> = {
  xls: new Set(["cfb"]),
  pdf: new Set(["pdf", "ai"]),
  png: new Set(["png", "apng"]),
  jpeg: new Set(["jpg", "jls"]),
  gif: new Set(["gif"]),
};

/*
 * OOXML is decided from the central directory in the tail (`matches`), which `file-type` cannot
 * see: its zip detector walks local headers from the start and stops at the sample's end. From
 * the head only the local-header signature is checked.
 */
const NAMING_BYTES = 64;
const ZIP_LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04];
const isOoxml = (kind: FileKind) => kind === "xlsx" || kind === "xlsm" || kind === "docx";

/*
 * api.md §2.5 "text": UTF-16 with a BOM (Excel's "Unicode text" export, full of NUL bytes) when the
 * sample decodes strictly as UTF-16; otherwise no NUL byte in the sample. Any 8-bit encoding
 * (UTF-8, Shift_JIS, latin-1, EUC-JP…) is a valid project file: only analysis registration, which
 * must read the values, refuses what it cannot decode (ENCODING_UNSUPPORTED, analysis.md §1.6).
 */
export function looksLikeText(head: Uint8Array, complete: boolean): boolean {
  const utf16 =
    head[0] === 0xff && head[1] === 0xfe
      ? "utf-16le"
      : head[0] === 0xfe && head[1] === 0xff
        ? "utf-16be"
        : null;
  if (utf16) {
    const body = head.subarray(2, 2 + ((head.length - 2) & ~1));
    // A surrogate pair may be cut at the end of the sample; try the sample minus one code unit.
    for (const cut of complete ? [0] : [0, 2]) {
      try {
        new TextDecoder(utf16, { fatal: true }).decode(body.subarray(0, body.length - cut));
        return complete ? body.length === head.length - 2 : true;
      } catch {
        /* try the shorter sample */
      }
    }
    return false;
  }
  return !head.includes(0);
}

/** Names of the entries in a zip's central directory, from the archive's tail bytes. */
export function zipEntryNames(tail: Uint8Array): string[] | null {
  const dir = zipDirectory(tail);
  return dir === null || dir === "zip64" ? null : dir.map((e) => e.name);
}

/**
 * Watches an upload stream: keeps the first 8 KiB for signatures and a rolling tail for the zip
 * directory, so the verdict needs no second read of the object.
 */
export class ContentSniffer {
  private head = new Uint8Array(0);
  private tail = new Uint8Array(0);
  private total = 0;

  feed(chunk: Uint8Array): void {
    this.total += chunk.length;
    if (this.head.length < HEAD_BYTES) {
      const take = chunk.subarray(0, HEAD_BYTES - this.head.length);
      const h = new Uint8Array(this.head.length + take.length);
      h.set(this.head);
      h.set(take, this.head.length);
      this.head = h;
    }
    const merged = new Uint8Array(Math.min(TAIL_BYTES, this.tail.length + chunk.length));
    const fromChunk = chunk.subarray(Math.max(0, chunk.length - merged.length));
    const fromTail = this.tail.subarray(this.tail.length - (merged.length - fromChunk.length));
    merged.set(fromTail);
    merged.set(fromChunk, fromTail.length);
    this.tail = merged;
  }

  /** True when the first bytes already contradict the kind (checked early to stop the stream). */
  async headMismatch(kind: FileKind): Promise<boolean> {
    if (this.head.length < 8 && this.total === this.head.length) return false;
    const family = BINARY_FAMILIES[kind];
    if (family) {
      // Fewer bytes than any accepted format needs to be named (a PNG's IHDR ends at byte 33)
      // contradict nothing yet; `matches` decides at the end.
      const type = await this.detect();
      if (type === undefined) return this.head.length >= NAMING_BYTES;
      return !family.has(type.ext);
    }
    return !this.signatureMatches(kind, false);
  }

  private detected: { length: number; type: Promise<FileTypeResult | undefined> } | null = null;

  /* Detection runs once per head length: a head that stopped growing is not re-read per chunk. */
  private detect(): Promise<FileTypeResult | undefined> {
    if (this.detected?.length !== this.head.length)
      this.detected = { length: this.head.length, type: fileTypeFromBuffer(this.head) };
    return this.detected.type;
  }

  private async binaryMatches(family: ReadonlySet<string>): Promise<boolean> {
    const type = await this.detect();
    return type !== undefined && family.has(type.ext);
  }

  private signatureMatches(kind: FileKind, complete: boolean): boolean {
    if (isOoxml(kind)) return ZIP_LOCAL_HEADER.every((v, i) => this.head[i] === v);
    return looksLikeText(this.head, complete && this.total <= HEAD_BYTES);
  }

  /** Final verdict once the whole stream was seen. `jsonText` is needed only for json. */
  async matches(kind: FileKind, jsonText?: () => string): Promise<boolean> {
    const family = BINARY_FAMILIES[kind];
    if (family) return this.binaryMatches(family);
    if (!this.signatureMatches(kind, true)) return false;
    if (isOoxml(kind)) {
      const names = zipEntryNames(this.tail);
      if (!names) return false;
      if (kind === "docx") return names.some((n) => n.startsWith("word/"));
      return names.includes("[Content_Types].xml") && names.some((n) => n.startsWith("xl/"));
    }
    if (kind === "json") {
      try {
        JSON.parse(jsonText ? jsonText() : "");
        return true;
      } catch {
        return false;
      }
    }
    return true;
  }

  get size(): number {
    return this.total;
  }
}

const toAscii = (s: string) =>
  s
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[^\x21-\x7e]/g, "_")
    .replace(/_+/g, "_");

/*
 * The plain `filename=` of RFC 6266 is what old clients save under, so it must be a safe name: the
 * sanitised basename (the storage-key rules of api.md §2.5), transliterated to ASCII.
 */
function asciiFallback(name: string): string {
  const safe = sanitiseFilename(name);
  const dot = safe.lastIndexOf(".");
  const stem = dot > 0 ? safe.slice(0, dot) : safe;
  const ext = dot > 0 ? toAscii(safe.slice(dot)) : "";
  return (toAscii(stem).replace(/^[._-]+|[._-]+$/g, "") || "download") + ext;
}

/**
 * `Content-Disposition` per RFC 6266: a sanitised ASCII `filename=` and the display name as the
 * UTF-8 `filename*` (RFC 5987). Directory parts are dropped from both: a download is a name, never
 * a path (RFC 6266 §4.3), so `../../etc/passwd.csv` is offered as `passwd.csv`.
 */
export function contentDisposition(filename: string, type: "attachment" | "inline" = "attachment"): string {
  const name = filename.split(/[\\/]/).pop() || filename;
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${type}; filename="${asciiFallback(name)}"; filename*=UTF-8''${encoded}`;
}
