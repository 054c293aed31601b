import { type Tracing, tracedMethods } from "@/lib/tracing";
import type { Storage } from "./types";

/* Object-store calls as child spans of the request: container and key, never the bytes. */
export function tracedStorage(storage: Storage, tracing: Tracing): Storage {
  if (!tracing.enabled) return storage;
  const op = (operation: string) => (args: unknown[]) => ({
    name: `storage ${operation}`,
    attributes: {
      "storage.backend": storage.backend,
      "storage.operation": operation,
      "storage.container": String(args[0] ?? ""),
      "storage.key": String(args[1] ?? ""),
    },
  });
  return tracedMethods(storage, tracing, {
    put: op("put"),
    get: op("get"),
    head: op("head"),
    exists: op("exists"),
    delete: op("delete"),
    deleteByPrefix: op("deleteByPrefix"),
    signedUrl: op("signedUrl"),
  });
}
