import pino from "pino";
import { ConfigError, getConfig } from "@/config";

/*
 * Entry point of the compiled binary and of `bun src/index.ts`:
 * `camp-backend serve [--worker N] | migrate | status | rollback [n] | seed [--force] | healthcheck`.
 * `healthcheck` exists so container HEALTHCHECKs need no curl.
 */

async function healthcheck(): Promise<number> {
  const config = getConfig();
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  try {
    const res = await fetch(`http://${host}:${config.port}/health`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? 0 : 1;
  } catch {
    return 1;
  }
}

async function serve(args: string[]): Promise<undefined> {
  const config = getConfig();
  const at = args.indexOf("--worker");
  const workerIndex = at >= 0 ? Number(args[at + 1]) : null;
  if (config.workers > 1 && workerIndex === null) {
    const { runPrimary } = await import("@/cluster");
    await runPrimary(
      config,
      pino({ level: config.logLevel, base: { app: config.appName, role: "primary" } }),
    );
    process.exit(0);
  }
  const { startServer } = await import("@/server");
  await startServer(config, {}, { workerIndex });
  return undefined;
}

export async function main(argv: string[]): Promise<number | undefined> {
  const [command = "serve", ...rest] = argv;
  switch (command) {
    case "serve":
      return serve(rest);
    case "migrate":
    case "status":
    case "rollback":
    case "seed": {
      const { runDbCommand } = await import("@/cli/db");
      return runDbCommand([command, ...rest]);
    }
    case "healthcheck":
      return healthcheck();
    default:
      console.error(
        `unknown command '${command}' (serve | migrate | status | rollback [n] | seed [--force] | healthcheck)`,
      );
      return 2;
  }
}

export async function run(argv: string[]): Promise<void> {
  try {
    const code = await main(argv);
    if (code !== undefined) process.exit(code);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  }
}

if (import.meta.main) await run(process.argv.slice(2));
