import { StorageKeyError } from "./types";

/*
 * The seed's object layout (infrastructure-design §5.2) in one place:
 *   container "uploads":  projects/{projectId}/{fileId}_{sanitisedName}, temp/{uploadId}_temp.tmp
 *   container "analysis": analysis/{sessionId}/snapshot_{timestamp}.json, …/graph_{graphId}.png
 * Ids become path segments, so they are held to a strict alphabet.
 */

const ID = /^[A-Za-z0-9_-]{1,128}$/;

function id(kind: string, value: string): string {
  if (!ID.test(value)) throw new StorageKeyError(value, `${kind} must be letters, digits, '-' or '_'`);
  return value;
}

export const projectPrefix = (projectId: string) => `projects/${id("projectId", projectId)}/`;

export function projectFileKey(projectId: string, fileId: string, sanitisedName: string): string {
  if (
    !sanitisedName ||
    /[/\\]/.test(sanitisedName) ||
    sanitisedName.includes("\0") ||
    sanitisedName === "." ||
    sanitisedName === ".."
  ) {
    throw new StorageKeyError(sanitisedName, "file name must be sanitised first");
  }
  return `${projectPrefix(projectId)}${id("fileId", fileId)}_${sanitisedName}`;
}

export const sessionPrefix = (sessionId: string) => `analysis/${id("sessionId", sessionId)}/`;

/* `YYYYMMDDTHHMMSSmmmZ` for a Date: sortable, and no ':' (not allowed in Windows file names). */
export function snapshotTimestamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace(".", "");
}

export function snapshotKey(sessionId: string, timestamp: Date | number | string): string {
  const ts = timestamp instanceof Date ? snapshotTimestamp(timestamp) : id("timestamp", String(timestamp));
  return `${sessionPrefix(sessionId)}snapshot_${ts}.json`;
}

export const graphKey = (sessionId: string, graphId: string) =>
  `${sessionPrefix(sessionId)}graph_${id("graphId", graphId)}.png`;

/* Driver-tree pictures live beside the analysis charts, one folder per tree. */
export const treeImagePrefix = (treeId: string) => `driver-tree/${id("treeId", treeId)}/`;
export const treeImageKey = (treeId: string, imageId: string) =>
  `${treeImagePrefix(treeId)}image_${id("imageId", imageId)}.png`;

export const TEMP_PREFIX = "temp/";
export const tempKey = (uploadId: string) => `${TEMP_PREFIX}${id("uploadId", uploadId)}_temp.tmp`;

const MAX_NAME_CHARS = 200;
/* With the `{uuid}_` prefix this keeps a stored name under the 255-byte limit of common file systems. */
const MAX_NAME_BYTES = 200;
const encoder = new TextEncoder();
const TRIM = /^[._-]+|[._-]+$/gu;

function fits(s: string): boolean {
  return Array.from(s).length <= MAX_NAME_CHARS && encoder.encode(s).length <= MAX_NAME_BYTES;
}

/* Cuts whole code points until the name fits. */
function cut(s: string, budgetChars: number, budgetBytes: number): string {
  let out = "";
  let bytes = 0;
  let chars = 0;
  for (const ch of s) {
    const b = encoder.encode(ch).length;
    if (chars + 1 > budgetChars || bytes + b > budgetBytes) break;
    out += ch;
    bytes += b;
    chars++;
  }
  return out;
}

/*
 * api.md §2.5: basename only, spaces → `_`, keep Unicode letters/digits and `._-`, trim
 * leading/trailing `._-`, empty → `unknown`, at most 200 characters. NFC first, so a name typed
 * on macOS (decomposed) and on Windows (composed) sanitises identically. A long name keeps its
 * extension and loses the end of its stem.
 */
export function sanitiseFilename(name: string | null | undefined): string {
  if (!name) return "unknown";
  const base = name.normalize("NFC").split(/[/\\]/).pop() ?? "";
  const cleaned = base
    .replace(/\p{Zs}/gu, "_")
    .replace(/[^\p{L}\p{N}._-]/gu, "")
    .replace(TRIM, "");
  if (!cleaned) return "unknown";
  if (fits(cleaned)) return cleaned;

  const dot = cleaned.lastIndexOf(".");
  const ext = dot > 0 && cleaned.length - dot <= 16 ? cleaned.slice(dot) : "";
  const stem = ext ? cleaned.slice(0, dot) : cleaned;
  const extChars = Array.from(ext).length;
  const extBytes = encoder.encode(ext).length;
  const short = cut(stem, MAX_NAME_CHARS - extChars, MAX_NAME_BYTES - extBytes).replace(TRIM, "");
  const result = (short + ext).replace(TRIM, "");
  return result || "unknown";
}
