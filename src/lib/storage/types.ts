/*
 * The object-storage contract shared by the local-folder and Azure Blob backends. Keys are
 * `/`-separated relative paths (see keys.ts); containers mirror the seed's Azure layout.
 */

export const CONTAINERS = ["uploads", "analysis", "public"] as const;
export type Container = (typeof CONTAINERS)[number];

export type StorageBackendName = "local" | "azure";

export type StorageBody = ReadableStream<Uint8Array> | Uint8Array | string;

export type PutOptions = {
  /* Abort with StorageTooLargeError as soon as more than this many bytes have arrived. */
  maxBytes?: number;
  contentType?: string;
};

export type PutResult = { size: number; sha256: string };

/* Inclusive byte offsets, as in an HTTP Range header. `end` past the object is clamped. */
export type ByteRange = { start?: number; end?: number };

export type GetResult = {
  stream: ReadableStream<Uint8Array>;
  /* Size of the whole object. */
  size: number;
  /* Bytes this stream will deliver (differs from size for a range). */
  length: number;
  /* The inclusive range actually served, when one was asked for. */
  range?: { start: number; end: number };
  contentType?: string;
};

export type HeadResult = {
  size: number;
  contentType?: string;
  lastModified?: Date;
  /* Recorded at upload by backends that can store it (Azure metadata); absent otherwise. */
  sha256?: string;
};

export type PingResult = { ok: boolean; latencyMs: number; error?: string };

/* One stored object as a listing sees it (retention's orphan sweep). */
export type ListedObject = { key: string; size: number; lastModified: Date };

export type StorageLogger = {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
};

export interface Storage {
  readonly backend: StorageBackendName;
  /* Creates what the backend needs (folders / containers). Safe to call repeatedly. */
  init(): Promise<void>;
  /* Streams the body in (never buffering it whole), hashing on the way; replaces atomically. */
  put(container: Container, key: string, body: StorageBody, options?: PutOptions): Promise<PutResult>;
  /* Throws StorageNotFoundError; StorageRangeError when `start` is beyond the end. */
  get(container: Container, key: string, range?: ByteRange): Promise<GetResult>;
  head(container: Container, key: string): Promise<HeadResult | null>;
  exists(container: Container, key: string): Promise<boolean>;
  /* Idempotent: deleting a missing object is not an error. */
  delete(container: Container, key: string): Promise<void>;
  /* Removes every object whose key starts with `prefix`; returns how many. */
  deleteByPrefix(container: Container, prefix: string): Promise<number>;
  /*
   * Every object whose key starts with `prefix`, in no particular order, never an in-progress
   * write. Optional so test doubles need not implement it; both real backends do.
   */
  list?(container: Container, prefix: string): AsyncIterable<ListedObject>;
  /* A time-limited read URL when the backend and credential can sign one; otherwise undefined. */
  signedUrl?(container: Container, key: string, ttlS: number): Promise<string | undefined>;
  ping(): Promise<PingResult>;
  close?(): Promise<void>;
}

export class StorageNotFoundError extends Error {
  constructor(
    readonly container: string,
    readonly key: string,
  ) {
    super(`object not found: ${container}/${key}`);
    this.name = "StorageNotFoundError";
  }
}

export class StorageTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`object exceeds the limit of ${maxBytes} bytes`);
    this.name = "StorageTooLargeError";
  }
}

/*
 * The backend cannot take writes right now: read-only or unwritable (`unavailable`, 503) or out of
 * space (`full`, 507). The message names the condition only, never a server path.
 */
export class StorageUnavailableError extends Error {
  constructor(
    readonly reason: "unavailable" | "full",
    readonly errno: string,
    options?: { cause?: unknown },
  ) {
    super(reason === "full" ? `storage is full (${errno})` : `storage is not writable (${errno})`, options);
    this.name = "StorageUnavailableError";
  }
}

const FULL_CODES = new Set(["ENOSPC", "EDQUOT", "EFBIG"]);
const UNWRITABLE_CODES = new Set(["EROFS", "EACCES", "EPERM", "EIO", "ENXIO", "ESTALE"]);

/** A file-system error of a write that says the medium, not the request, is at fault. */
export function storageFault(err: unknown): StorageUnavailableError | null {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== "string") return null;
  if (FULL_CODES.has(code)) return new StorageUnavailableError("full", code, { cause: err });
  if (UNWRITABLE_CODES.has(code)) return new StorageUnavailableError("unavailable", code, { cause: err });
  return null;
}

/* The key (or prefix) is not an acceptable relative path, or would resolve outside the root. */
export class StorageKeyError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid storage key ${JSON.stringify(key)}: ${reason}`);
    this.name = "StorageKeyError";
  }
}

export class StorageRangeError extends Error {
  constructor(
    readonly size: number,
    readonly start: number,
  ) {
    super(`range start ${start} is not satisfiable for an object of ${size} bytes`);
    this.name = "StorageRangeError";
  }
}

export function isContainer(v: string): v is Container {
  return (CONTAINERS as readonly string[]).includes(v);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
