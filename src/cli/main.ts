import { ConfigError, getConfig } from "@/config";

/*
 * Entry point of the compiled binary: `camp-backend serve | migrate | status | rollback | healthcheck`.
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

async function main(argv: string[]): Promise<number | undefined> {
  const [command = "serve", ...rest] = argv;
  switch (command) {
    case "serve": {
      const { startServer } = await import("@/server");
      await startServer(getConfig());
      return undefined;
    }
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
        `unknown command '${command}' (serve | migrate | status | rollback [n] | seed | healthcheck)`,
      );
      return 2;
  }
}

try {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exit(code);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
}
