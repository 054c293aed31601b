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

const startsWith = (b: Uint8Array, sig: number[]) => sig.every((v, i) => b[i] === v);

function decodesAsText(head: Uint8Array, complete: boolean): boolean {
  if (head.includes(0)) return false;
  // A multi-byte character may be cut at the end of the sample; try the sample minus 0–3 bytes.
  const tries = complete ? [0] : [0, 1, 2, 3];
  for (const encoding of ["utf-8", "shift_jis"] as const) {
    for (const cut of tries) {
      try {
        new TextDecoder(encoding, { fatal: true }).decode(head.subarray(0, head.length - cut));
        return true;
      } catch {
        /* try the next cut or encoding */
      }
    }
  }
  return false;
}

/** Names of the entries in a zip's central directory, from the archive's tail bytes. */
export function zipEntryNames(tail: Uint8Array): string[] | null {
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= Math.max(0, tail.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return null;
  const cdSize = view.getUint32(eocd + 12, true);
  let p = eocd - cdSize;
  if (p < 0) return null;
  const names: string[] = [];
  const decoder = new TextDecoder();
  while (p + 46 <= eocd && view.getUint32(p, true) === 0x02014b50) {
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    names.push(decoder.decode(tail.subarray(p + 46, p + 46 + nameLen)));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return names;
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
  headMismatch(kind: FileKind): boolean {
    if (this.head.length < 8 && this.total === this.head.length) return false;
    return !this.signatureMatches(kind, false);
  }

  private signatureMatches(kind: FileKind, complete: boolean): boolean {
    const h = this.head;
    switch (kind) {
      case "xlsx":
      case "xlsm":
      case "docx":
        return startsWith(h, [0x50, 0x4b, 0x03, 0x04]);
      case "xls":
        return startsWith(h, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
      case "pdf":
        return startsWith(h, [0x25, 0x50, 0x44, 0x46, 0x2d]);
      case "png":
        return startsWith(h, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      case "jpeg":
        return startsWith(h, [0xff, 0xd8, 0xff]);
      case "gif":
        return (
          startsWith(h, [0x47, 0x49, 0x46, 0x38, 0x37, 0x61]) ||
          startsWith(h, [0x47, 0x49, 0x46, 0x38, 0x39, 0x61])
        );
      case "csv":
      case "txt":
      case "json":
        return decodesAsText(h, complete && this.total <= HEAD_BYTES);
    }
  }

  /** Final verdict once the whole stream was seen. `jsonText` is needed only for json. */
  matches(kind: FileKind, jsonText?: () => string): boolean {
    if (!this.signatureMatches(kind, true)) return false;
    if (kind === "xlsx" || kind === "xlsm" || kind === "docx") {
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

/** `Content-Disposition` per RFC 6266 with an ASCII fallback and the UTF-8 `filename*`. */
export function contentDisposition(filename: string, type: "attachment" | "inline" = "attachment"): string {
  const ascii = filename
    .normalize("NFKD")
    .replace(/[^\x20-\x7e]/g, "_")
    .replace(/["\\]/g, "_");
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
