import type { AzureStorageOptions } from "./azure";
import type { ListedObject, Storage } from "./types";

/*
 * Azure Blob Storage, with the Azure SDK (tens of MB resident) loaded by `init()` rather than at
 * process start, so a deployment on local storage never loads it. Every operation waits for the
 * same load, so calls made before `init()` still work.
 */
export class LazyAzureStorage implements Storage {
  readonly backend = "azure" as const;
  private loading: Promise<Storage> | null = null;

  constructor(private readonly options: AzureStorageOptions) {}

  private impl(): Promise<Storage> {
    this.loading ??= import("./azure").then(({ AzureBlobStorage }) => new AzureBlobStorage(this.options));
    return this.loading;
  }

  async init(): Promise<void> {
    await (await this.impl()).init();
  }
  async put(...a: Parameters<Storage["put"]>) {
    return (await this.impl()).put(...a);
  }
  async get(...a: Parameters<Storage["get"]>) {
    return (await this.impl()).get(...a);
  }
  async head(...a: Parameters<Storage["head"]>) {
    return (await this.impl()).head(...a);
  }
  async exists(...a: Parameters<Storage["exists"]>) {
    return (await this.impl()).exists(...a);
  }
  async delete(...a: Parameters<Storage["delete"]>) {
    return (await this.impl()).delete(...a);
  }
  async deleteByPrefix(...a: Parameters<Storage["deleteByPrefix"]>) {
    return (await this.impl()).deleteByPrefix(...a);
  }
  async *list(...a: Parameters<NonNullable<Storage["list"]>>): AsyncGenerator<ListedObject> {
    const s = await this.impl();
    if (s.list) yield* s.list(...a);
  }
  async signedUrl(...a: Parameters<NonNullable<Storage["signedUrl"]>>) {
    const s = await this.impl();
    return s.signedUrl ? s.signedUrl(...a) : undefined;
  }
  async ping() {
    return (await this.impl()).ping();
  }
  async close() {
    if (this.loading) await (await this.loading).close?.();
  }
}
