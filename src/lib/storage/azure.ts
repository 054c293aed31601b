import { DefaultAzureCredential } from "@azure/identity";
import {
  BlobSASPermissions,
  BlobServiceClient,
  type BlockBlobClient,
  type ContainerClient,
  RestError,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
  type UserDelegationKey,
} from "@azure/storage-blob";
import { assertValidKey, bodyChunks, emptyStream } from "./common";
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
  type StorageLogger,
  StorageNotFoundError,
  StorageRangeError,
  StorageTooLargeError,
} from "./types";

/*
 * Azure Blob Storage. Uploads are staged block by block from the incoming stream (a fixed pool
 * of block buffers, a few blocks in flight) and committed only once the whole body has arrived
 * within its limit, so a refused or failed upload never becomes a visible blob; the hash is
 * computed on the way and recorded in the blob's metadata.
 */

export type AzureStorageOptions = {
  connectionString?: string | null;
  accountName?: string | null;
  /* Defaults to https://{accountName}.blob.core.windows.net. */
  accountUrl?: string | null;
  /* Physical container names, when they differ from the logical ones. */
  containerNames?: Partial<Record<Container, string>>;
  blockSizeBytes?: number;
  uploadConcurrency?: number;
  pingTimeoutMs?: number;
  logger?: StorageLogger;
};

const SHA256_METADATA = "sha256";
const isStatus = (err: unknown, status: number) => err instanceof RestError && err.statusCode === status;
const isCode = (err: unknown, code: string) => err instanceof RestError && err.code === code;

function blockId(index: number): string {
  // Every id of one blob must have the same length.
  return Buffer.from(`blk-${String(index).padStart(8, "0")}`).toString("base64");
}

/* Node stream (the SDK's download body) → web stream, pulled on demand so memory stays flat. */
function toWebStream(node: NodeJS.ReadableStream): ReadableStream<Uint8Array> {
  const it = node[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await it.next();
          if (done) controller.close();
          else
            controller.enqueue(
              typeof value === "string"
                ? new TextEncoder().encode(value)
                : new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
            );
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel() {
        (node as unknown as { destroy?: () => void }).destroy?.();
      },
    },
    { highWaterMark: 0 },
  );
}

export class AzureBlobStorage implements Storage {
  readonly backend = "azure" as const;
  readonly service: BlobServiceClient;
  private readonly names: Record<Container, string>;
  private readonly blockSize: number;
  private readonly concurrency: number;
  private readonly pingTimeoutMs: number;
  private readonly log?: StorageLogger;
  private delegationKey: { key: UserDelegationKey; expiresOn: Date } | null = null;
  private delegationFailureLogged = false;

  constructor(options: AzureStorageOptions) {
    const pipeline: StoragePipelineOptions = { retryOptions: { maxTries: 3 } };
    if (options.connectionString) {
      this.service = BlobServiceClient.fromConnectionString(options.connectionString, pipeline);
    } else if (options.accountName) {
      const url = options.accountUrl ?? `https://${options.accountName}.blob.core.windows.net`;
      this.service = new BlobServiceClient(url, new DefaultAzureCredential(), pipeline);
    } else {
      throw new Error("Azure storage needs a connection string or an account name");
    }
    this.names = {
      uploads: options.containerNames?.uploads ?? "uploads",
      analysis: options.containerNames?.analysis ?? "analysis",
      public: options.containerNames?.public ?? "public",
    };
    this.blockSize = options.blockSizeBytes ?? 4 * 1024 * 1024;
    this.concurrency = Math.max(1, options.uploadConcurrency ?? 2);
    this.pingTimeoutMs = options.pingTimeoutMs ?? 3000;
    this.log = options.logger;
  }

  async init(): Promise<void> {
    for (const c of CONTAINERS) await this.createContainer(c);
  }

  async put(
    container: Container,
    key: string,
    body: StorageBody,
    options: PutOptions = {},
  ): Promise<PutResult> {
    const blob = this.blockBlob(container, key);
    const hash = new Bun.CryptoHasher("sha256");
    const max = options.maxBytes;
    const headers = options.contentType ? { blobContentType: options.contentType } : undefined;
    const blocks: string[] = [];
    const inflight = new Set<Promise<void>>();
    const free: Buffer[] = [];
    const acquire = () => free.pop() ?? Buffer.allocUnsafe(this.blockSize);

    const stage = async (buf: Buffer, length: number) => {
      const id = blockId(blocks.length);
      blocks.push(id);
      const p = this.withContainer(container, () =>
        blob.stageBlock(id, buf.subarray(0, length), length),
      ).then(() => {
        free.push(buf);
      });
      // Rejections are observed through race/all below; this only keeps them from going unhandled.
      p.catch(() => undefined);
      inflight.add(p);
      void p.finally(() => inflight.delete(p)).catch(() => undefined);
      if (inflight.size >= this.concurrency) await Promise.race(inflight);
    };

    let size = 0;
    let current = acquire();
    let fill = 0;
    try {
      for await (const chunk of bodyChunks(body)) {
        size += chunk.byteLength;
        if (max !== undefined && size > max) throw new StorageTooLargeError(max);
        hash.update(chunk);
        let offset = 0;
        while (offset < chunk.byteLength) {
          const n = Math.min(this.blockSize - fill, chunk.byteLength - offset);
          current.set(chunk.subarray(offset, offset + n), fill);
          fill += n;
          offset += n;
          if (fill === this.blockSize) {
            await stage(current, fill);
            current = acquire();
            fill = 0;
          }
        }
      }
      const sha256 = hash.digest("hex");
      const common = { blobHTTPHeaders: headers, metadata: { [SHA256_METADATA]: sha256 } };
      if (blocks.length === 0) {
        // One request for anything that fits in a single block.
        await this.withContainer(container, () => blob.upload(current.subarray(0, fill), fill, common));
      } else {
        if (fill > 0) await stage(current, fill);
        await Promise.all(inflight);
        await this.withContainer(container, () => blob.commitBlockList(blocks, common));
      }
      return { size, sha256 };
    } finally {
      // Nothing was committed on failure; uncommitted blocks are invisible and expire on their own.
      await Promise.allSettled(inflight);
    }
  }

  async get(container: Container, key: string, range?: ByteRange): Promise<GetResult> {
    const blob = this.blockBlob(container, key);
    const ranged = range && (range.start !== undefined || range.end !== undefined);
    const start = range?.start ?? 0;
    if (ranged) {
      if (!Number.isInteger(start) || start < 0) throw new StorageRangeError(-1, start);
      if (range.end !== undefined && (!Number.isInteger(range.end) || range.end < start)) {
        throw new StorageRangeError(-1, start);
      }
    }
    try {
      const count = ranged && range.end !== undefined ? range.end - start + 1 : undefined;
      const res = ranged ? await blob.download(start, count) : await blob.download();
      const length = res.contentLength ?? 0;
      const total = /\/(\d+)$/.exec(res.contentRange ?? "")?.[1];
      const size = total !== undefined ? Number(total) : length;
      const body = res.readableStreamBody;
      // Some servers answer an unsatisfiable range with the whole blob instead of 416.
      if (ranged && (start >= size || (res.contentRange === undefined && start > 0))) {
        (body as unknown as { destroy?: () => void } | undefined)?.destroy?.();
        throw new StorageRangeError(size, start);
      }
      return {
        stream: body && length > 0 ? toWebStream(body) : emptyStream(),
        size,
        length,
        ...(ranged ? { range: { start, end: start + length - 1 } } : {}),
        contentType: res.contentType,
      };
    } catch (err) {
      if (err instanceof StorageRangeError) throw err;
      if (isStatus(err, 404)) throw new StorageNotFoundError(container, key);
      if (isStatus(err, 416)) {
        const props = await blob.getProperties().catch(() => null);
        throw new StorageRangeError(props?.contentLength ?? -1, start);
      }
      throw err;
    }
  }

  async head(container: Container, key: string): Promise<HeadResult | null> {
    try {
      const p = await this.blockBlob(container, key).getProperties();
      return {
        size: p.contentLength ?? 0,
        contentType: p.contentType,
        lastModified: p.lastModified,
        sha256: p.metadata?.[SHA256_METADATA],
      };
    } catch (err) {
      if (isStatus(err, 404)) return null;
      throw err;
    }
  }

  async exists(container: Container, key: string): Promise<boolean> {
    return (await this.head(container, key)) !== null;
  }

  async delete(container: Container, key: string): Promise<void> {
    try {
      await this.blockBlob(container, key).deleteIfExists({ deleteSnapshots: "include" });
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  async deleteByPrefix(container: Container, prefix: string): Promise<number> {
    assertValidKey(prefix, "prefix");
    const cc = this.containerClient(container);
    let deleted = 0;
    const pending = new Set<Promise<void>>();
    try {
      for await (const item of cc.listBlobsFlat({ prefix: prefix || undefined })) {
        const p = cc
          .getBlobClient(item.name)
          .deleteIfExists({ deleteSnapshots: "include" })
          .then((r) => {
            if (r.succeeded) deleted++;
          });
        p.catch(() => undefined);
        pending.add(p);
        void p.finally(() => pending.delete(p)).catch(() => undefined);
        if (pending.size >= 16) await Promise.race(pending);
      }
      await Promise.all(pending);
    } catch (err) {
      await Promise.allSettled(pending);
      if (isCode(err, "ContainerNotFound")) return deleted;
      throw err;
    }
    return deleted;
  }

  async *list(container: Container, prefix: string): AsyncGenerator<ListedObject> {
    if (prefix !== "") assertValidKey(prefix, "prefix");
    const cc = this.containerClient(container);
    try {
      for await (const item of cc.listBlobsFlat({ prefix: prefix || undefined })) {
        yield {
          key: item.name,
          size: item.properties.contentLength ?? 0,
          lastModified: item.properties.lastModified,
        };
      }
    } catch (err) {
      if (!isCode(err, "ContainerNotFound")) throw err;
    }
  }

  /*
   * Shared-key credentials (connection string with AccountKey) sign directly; Entra identities
   * sign with a user delegation key when the role allows it. Anything else cannot sign.
   */
  async signedUrl(container: Container, key: string, ttlS: number): Promise<string | undefined> {
    const blob = this.blockBlob(container, key);
    const now = Date.now();
    const options = {
      permissions: BlobSASPermissions.parse("r"),
      // Small back-dating absorbs clock skew between us and the storage service.
      startsOn: new Date(now - 5 * 60_000),
      expiresOn: new Date(now + ttlS * 1000),
    };
    const credential = this.service.credential;
    if (credential instanceof StorageSharedKeyCredential) return blob.generateSasUrl(options);
    if (!("getToken" in credential)) return undefined;
    try {
      const key = await this.userDelegationKey(options.expiresOn);
      return await blob.generateUserDelegationSasUrl(options, key);
    } catch (err) {
      if (!this.delegationFailureLogged) {
        this.delegationFailureLogged = true;
        this.log?.warn(
          { err: errorMessage(err) },
          "cannot sign blob URLs with this identity; serving through the API",
        );
      }
      return undefined;
    }
  }

  async ping(): Promise<PingResult> {
    const t0 = performance.now();
    try {
      await this.containerClient("uploads").getProperties({
        abortSignal: AbortSignal.timeout(this.pingTimeoutMs),
      });
      return { ok: true, latencyMs: performance.now() - t0 };
    } catch (err) {
      // Reachable and authorised; the container is created on first write.
      if (isCode(err, "ContainerNotFound")) return { ok: true, latencyMs: performance.now() - t0 };
      return { ok: false, latencyMs: performance.now() - t0, error: errorMessage(err) };
    }
  }

  private containerClient(container: Container): ContainerClient {
    if (!isContainer(container)) throw new StorageKeyError(String(container), "unknown container");
    return this.service.getContainerClient(this.names[container]);
  }

  private blockBlob(container: Container, key: string): BlockBlobClient {
    assertValidKey(key);
    return this.containerClient(container).getBlockBlobClient(key);
  }

  private async createContainer(container: Container): Promise<void> {
    const cc = this.containerClient(container);
    if (container !== "public") {
      await cc.createIfNotExists();
      return;
    }
    try {
      await cc.createIfNotExists({ access: "blob" });
    } catch (err) {
      // Accounts often forbid anonymous access altogether; a private container still works through the API.
      if (!isCode(err, "PublicAccessNotPermitted")) throw err;
      this.log?.warn(
        { container: this.names.public },
        "public blob access is disabled on this account; container is private",
      );
      await cc.createIfNotExists();
    }
  }

  /* A write into a container that does not exist yet creates it and tries once more. */
  private async withContainer<T>(container: Container, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (!isCode(err, "ContainerNotFound")) throw err;
      await this.createContainer(container);
      return op();
    }
  }

  private async userDelegationKey(until: Date): Promise<UserDelegationKey> {
    const cached = this.delegationKey;
    if (cached && cached.expiresOn.getTime() > until.getTime() + 60_000) return cached.key;
    const startsOn = new Date(Date.now() - 5 * 60_000);
    // Keys may live up to 7 days; a day-long key covers many URLs without a round trip each.
    const expiresOn = new Date(Math.max(until.getTime() + 60_000, Date.now() + 24 * 3600_000));
    const key = await this.service.getUserDelegationKey(startsOn, expiresOn);
    this.delegationKey = { key, expiresOn };
    return key;
  }
}
