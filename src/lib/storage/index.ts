import type { AzureStorageOptions } from "./azure";
import { LazyAzureStorage } from "./lazy-azure";
import { LocalStorage } from "./local";
import type { Container, Storage, StorageLogger } from "./types";

export type { AzureStorageOptions } from "./azure";
export { assertValidKey } from "./common";
export * from "./keys";
export { LazyAzureStorage } from "./lazy-azure";
export { LocalStorage, type LocalStorageOptions } from "./local";
export * from "./types";

export type CreateStorageOptions = {
  backend: "local" | "azure";
  /* LOCAL_STORAGE_PATH; default ./uploads. */
  localPath?: string;
  localFsync?: boolean;
  azureConnectionString?: string | null;
  azureAccountName?: string | null;
  azureAccountUrl?: string | null;
  containerNames?: Partial<Record<Container, string>>;
  azureBlockSizeBytes?: number;
  azureUploadConcurrency?: number;
  logger?: StorageLogger;
};

/* Call `init()` on the result once at start-up (creates folders / containers). */
export function createStorage(options: CreateStorageOptions): Storage {
  if (options.backend === "azure") {
    const azure: AzureStorageOptions = {
      connectionString: options.azureConnectionString,
      accountName: options.azureAccountName,
      accountUrl: options.azureAccountUrl,
      containerNames: options.containerNames,
      blockSizeBytes: options.azureBlockSizeBytes,
      uploadConcurrency: options.azureUploadConcurrency,
      logger: options.logger,
    };
    return new LazyAzureStorage(azure);
  }
  return new LocalStorage({ root: options.localPath ?? "./uploads", fsync: options.localFsync });
}
