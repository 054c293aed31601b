import { randomUUID } from "node:crypto";
import {
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
} from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { assertValidKey, bodyChunks, emptyStream, resolveRange, TEMP_MARKER } from "./common";
import {
  type ByteRange,
  CONTAINERS,
  type Container,
  errorMessage,
  type GetResult,
  type HeadResult,
  isContainer,
  type ListedObject,
  type PingResult,
  type PutOptions,
  type PutResult,
  type Storage,
  type StorageBody,
  StorageKeyError,
  StorageNotFoundError,
  StorageTooLargeError,
  storageFault,
} from "./types";

/*
 * The seed's layout (infrastructure design §5.2) under one root (`./uploads` by default): the
 * keys' own folders sit directly under it — `projects/` and `temp/` of the "uploads" container,
 * `analysis/` of the "analysis" container — so nothing is doubled (`uploads/projects/…`, not
 * `uploads/uploads/projects/…`). Each top folder belongs to one container; any other key is kept
 * apart per container (`public/…`, `.uploads/…`, `.analysis/…`), so containers never share a path.
 * `layout-migration.ts` moves a store written in the old folder-per-container form.
 *
 * Containment is enforced twice:
 * lexically (validated keys, resolved path must stay under the container folder) and physically
 * (the real path of every existing ancestor must stay under the real root, so a symlink planted
 * inside the tree cannot lead a read or write outside it). Writes go to a temp file in the
 * target folder and are renamed into place, so readers never see a partial object.
 */

export type LocalStorageOptions = {
  root: string;
  /* fdatasync before the rename: durable objects at the cost of write latency. */
  fsync?: boolean;
};

/* The design's top folders and the container each belongs to. */
export const LAYOUT_FOLDERS: Readonly<Record<Container, readonly string[]>> = {
  uploads: ["projects", "temp"],
  analysis: ["analysis"],
  public: [],
};

/* Where a container keeps keys outside its design folders (relative to the root). */
export const otherFolder = (container: Container) => (container === "public" ? "public" : `.${container}`);

type Area = { dir: string; keyPrefix: string };

/* A validated key's path relative to the root, as segments (see the layout above). */
export function layoutSegments(container: Container, key: string): string[] {
  const segments = key.split("/");
  const own = segments.length > 1 && LAYOUT_FOLDERS[container].includes(segments[0]!);
  return own ? segments : [otherFolder(container), ...segments];
}

const isErrno = (err: unknown, ...codes: string[]) => codes.includes((err as { code?: string })?.code ?? "");

export class LocalStorage implements Storage {
  readonly backend = "local" as const;
  readonly root: string;
  private readonly fsync: boolean;
  private realRoot: Promise<string> | null = null;

  constructor(options: LocalStorageOptions) {
    this.root = resolve(options.root);
    this.fsync = options.fsync ?? true;
  }

  async init(): Promise<void> {
    for (const c of CONTAINERS) {
      for (const folder of LAYOUT_FOLDERS[c]) await mkdir(join(this.root, folder), { recursive: true });
    }
  }

  async put(
    container: Container,
    key: string,
    body: StorageBody,
    options: PutOptions = {},
  ): Promise<PutResult> {
    try {
      return await this.write(container, key, body, options);
    } catch (err) {
      // A read-only or full disk is the server's condition, not the request's: 503/507, no path.
      throw storageFault(err) ?? err;
    }
  }

  private async write(
    container: Container,
    key: string,
    body: StorageBody,
    options: PutOptions,
  ): Promise<PutResult> {
    const target = await this.pathFor(container, key);
    const dir = dirname(target);
    await this.ensureDir(key, dir);
    const tmp = join(dir, `${TEMP_MARKER}${randomUUID()}`);
    let fh: FileHandle;
    try {
      fh = await open(tmp, "wx", 0o644);
    } catch (err) {
      // A concurrent deleteByPrefix may have pruned the folder between mkdir and open.
      if (!isErrno(err, "ENOENT")) throw err;
      await this.ensureDir(key, dir);
      fh = await open(tmp, "wx", 0o644);
    }
    const hash = new Bun.CryptoHasher("sha256");
    const max = options.maxBytes;
    let size = 0;
    let closed = false;
    try {
      for await (const chunk of bodyChunks(body)) {
        size += chunk.byteLength;
        if (max !== undefined && size > max) throw new StorageTooLargeError(max);
        hash.update(chunk);
        let offset = 0;
        while (offset < chunk.byteLength) {
          const { bytesWritten } = await fh.write(chunk, offset, chunk.byteLength - offset);
          offset += bytesWritten;
        }
      }
      if (this.fsync) await fh.datasync();
      closed = true;
      await fh.close();
      await rename(tmp, target);
    } catch (err) {
      if (!closed) await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return { size, sha256: hash.digest("hex") };
  }

  async get(container: Container, key: string, range?: ByteRange): Promise<GetResult> {
    const real = await this.existingFile(container, key);
    const st = await stat(real).catch((err) => {
      if (isErrno(err, "ENOENT")) throw new StorageNotFoundError(container, key);
      throw err;
    });
    const r = resolveRange(st.size, range);
    const file = Bun.file(real);
    const stream = r.length === 0 ? emptyStream() : file.slice(r.start, r.end + 1).stream();
    return {
      stream,
      size: st.size,
      length: r.length,
      ...(r.partial ? { range: { start: r.start, end: r.end } } : {}),
      contentType: file.type,
    };
  }

  async head(container: Container, key: string): Promise<HeadResult | null> {
    let real: string;
    try {
      real = await this.existingFile(container, key);
    } catch (err) {
      if (err instanceof StorageNotFoundError) return null;
      throw err;
    }
    const st = await stat(real).catch(() => null);
    if (!st?.isFile()) return null;
    return { size: st.size, contentType: Bun.file(real).type, lastModified: st.mtime };
  }

  async exists(container: Container, key: string): Promise<boolean> {
    return (await this.head(container, key)) !== null;
  }

  async delete(container: Container, key: string): Promise<void> {
    const target = await this.pathFor(container, key);
    try {
      await this.assertRealParentContained(key, dirname(target));
    } catch (err) {
      if (err instanceof StorageNotFoundError) return;
      throw err;
    }
    try {
      await unlink(target);
    } catch (err) {
      if (!isErrno(err, "ENOENT", "ENOTDIR")) throw err;
    }
  }

  async deleteByPrefix(container: Container, prefix: string): Promise<number> {
    assertValidKey(prefix, "prefix");
    let deleted = 0;
    for (const area of this.areas(container)) {
      // The part of the prefix inside this area; the whole area when the prefix is shorter.
      const rel = prefix.startsWith(area.keyPrefix)
        ? prefix.slice(area.keyPrefix.length)
        : area.keyPrefix.startsWith(prefix)
          ? ""
          : null;
      if (rel !== null) deleted += await this.deleteUnder(area.dir, rel, prefix);
    }
    return deleted;
  }

  /* Deletes the files under `base` whose path relative to it starts with `prefix`. */
  private async deleteUnder(base: string, prefix: string, original: string): Promise<number> {
    const slash = prefix.lastIndexOf("/");
    const dirPart = slash >= 0 ? prefix.slice(0, slash) : "";
    const start = dirPart ? resolve(base, ...dirPart.split("/")) : base;
    if (start !== base && !start.startsWith(base + sep))
      throw new StorageKeyError(original, "escapes the container");
    try {
      await this.assertRealParentContained(original, start);
    } catch (err) {
      if (err instanceof StorageNotFoundError) return 0;
      throw err;
    }
    let deleted = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, "ENOENT", "ENOTDIR")) return;
        throw err;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        const key = relative(base, full).split(sep).join("/");
        // Symlinked folders are entries, never descended into: their targets are not ours.
        if (e.isDirectory()) {
          const asDir = `${key}/`;
          if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) {
            await walk(full);
            if (asDir.startsWith(prefix)) await rmdir(full).catch(() => undefined);
          }
          continue;
        }
        if (!key.startsWith(prefix)) continue;
        try {
          await unlink(full);
          if (!e.name.startsWith(TEMP_MARKER)) deleted++;
        } catch (err) {
          if (!isErrno(err, "ENOENT")) throw err;
        }
      }
    };
    await walk(start);
    if (start !== base && prefix.endsWith("/")) await rmdir(start).catch(() => undefined);
    return deleted;
  }

  async *list(container: Container, prefix: string): AsyncGenerator<ListedObject> {
    if (prefix !== "") assertValidKey(prefix, "prefix");
    for (const area of this.areas(container)) {
      if (!(prefix.startsWith(area.keyPrefix) || area.keyPrefix.startsWith(prefix))) continue;
      const stack = [area.dir];
      while (stack.length > 0) {
        const dir = stack.pop()!;
        let entries: import("node:fs").Dirent[];
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (err) {
          if (isErrno(err, "ENOENT", "ENOTDIR")) continue;
          throw err;
        }
        for (const e of entries) {
          const full = join(dir, e.name);
          const key = area.keyPrefix + relative(area.dir, full).split(sep).join("/");
          // Symlinked folders are entries, never descended into (as in deleteByPrefix).
          if (e.isDirectory()) {
            const asDir = `${key}/`;
            if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) stack.push(full);
            continue;
          }
          if (!e.isFile() || e.name.startsWith(TEMP_MARKER) || !key.startsWith(prefix)) continue;
          const st = await stat(full).catch(() => null);
          if (st?.isFile()) yield { key, size: st.size, lastModified: st.mtime };
        }
      }
    }
  }

  async signedUrl(): Promise<string | undefined> {
    return undefined;
  }

  async ping(): Promise<PingResult> {
    const t0 = performance.now();
    const key = `temp/probe-${randomUUID()}.tmp`;
    try {
      await this.put("uploads", key, "ping");
      await this.delete("uploads", key);
      return { ok: true, latencyMs: performance.now() - t0 };
    } catch (err) {
      return { ok: false, latencyMs: performance.now() - t0, error: errorMessage(err) };
    }
  }

  /* The folders holding a container's objects, with the key prefix each stands for. */
  private areas(container: Container): Area[] {
    if (!isContainer(container)) throw new StorageKeyError(String(container), "unknown container");
    return [
      ...LAYOUT_FOLDERS[container].map((f) => ({ dir: join(this.root, f), keyPrefix: `${f}/` })),
      { dir: join(this.root, otherFolder(container)), keyPrefix: "" },
    ];
  }

  private async pathFor(container: Container, key: string): Promise<string> {
    assertValidKey(key);
    if (!isContainer(container)) throw new StorageKeyError(String(container), "unknown container");
    const segments = layoutSegments(container, key);
    const base = join(this.root, segments[0]!);
    const full = resolve(this.root, ...segments);
    if (!full.startsWith(base + sep)) throw new StorageKeyError(key, "escapes the container");
    return full;
  }

  private rootReal(): Promise<string> {
    this.realRoot ??= (async () => {
      await mkdir(this.root, { recursive: true });
      return realpath(this.root);
    })();
    return this.realRoot;
  }

  private async contained(key: string, real: string): Promise<void> {
    const root = await this.rootReal();
    if (real !== root && !real.startsWith(root + sep))
      throw new StorageKeyError(key, "resolves outside the storage root");
  }

  /* The object's real path (following any symlink), checked to be inside the root. */
  private async existingFile(container: Container, key: string): Promise<string> {
    const target = await this.pathFor(container, key);
    let real: string;
    try {
      real = await realpath(target);
    } catch (err) {
      if (isErrno(err, "ENOENT", "ENOTDIR", "ELOOP")) throw new StorageNotFoundError(container, key);
      throw err;
    }
    await this.contained(key, real);
    const st = await lstat(real);
    if (!st.isFile()) throw new StorageNotFoundError(container, key);
    return real;
  }

  /* Throws StorageNotFoundError when the folder does not exist; StorageKeyError when it escapes. */
  private async assertRealParentContained(key: string, dir: string): Promise<void> {
    let real: string;
    try {
      real = await realpath(dir);
    } catch (err) {
      if (isErrno(err, "ENOENT", "ENOTDIR")) {
        // The folder is missing, but an ancestor that exists must still be ours.
        await this.deepestExistingContained(key, dir);
        throw new StorageNotFoundError("", key);
      }
      throw err;
    }
    await this.contained(key, real);
  }

  private async deepestExistingContained(key: string, dir: string): Promise<void> {
    let cur = dir;
    for (;;) {
      try {
        await this.contained(key, await realpath(cur));
        return;
      } catch (err) {
        if (!isErrno(err, "ENOENT", "ENOTDIR")) throw err;
      }
      const up = dirname(cur);
      if (up === cur) return;
      cur = up;
    }
  }

  /*
   * mkdir -p follows symlinks, so the existing part of the chain is checked before creating
   * anything, and the result is checked again after.
   */
  private async ensureDir(key: string, dir: string): Promise<void> {
    await this.deepestExistingContained(key, dir);
    await mkdir(dir, { recursive: true });
    await this.contained(key, await realpath(dir));
  }
}
