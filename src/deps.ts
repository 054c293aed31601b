import type { Logger } from "pino";
import type { Config } from "@/config";
import type { DatabaseHandle } from "@/db/client";

/*
 * Everything the app needs from the outside world, built once by the entry point (or a test) and
 * handed to `buildApp`. Controllers pass what a service needs as plain arguments.
 */
export type AppDeps = {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
};
