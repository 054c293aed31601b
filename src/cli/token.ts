import { parseArgs } from "node:util";
import { type Config, ConfigError, getConfig } from "@/config";
import { signDevToken } from "@/lib/auth/dev-token";

/*
 * `bun run token --email a@b.c [--name N] [--expires S] [--oid UUID] [--sid S]` prints an HS256 dev
 * JWT signed with SECRET_KEY, so local tools and tests can act as any user.
 */

const USAGE =
  "usage: bun run token --email <email> [--name <name>] [--expires <seconds>] [--oid <oid>] [--sid <sid>]";

export type CliIo = { out: (line: string) => void; err: (line: string) => void };

const consoleIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export async function runTokenCli(
  argv: string[],
  loadConfig: () => Config = getConfig,
  io = consoleIo,
): Promise<number> {
  let values: { email?: string; name?: string; expires?: string; oid?: string; sid?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        email: { type: "string" },
        name: { type: "string" },
        expires: { type: "string" },
        oid: { type: "string" },
        sid: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    io.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (!values.email || !/^[^@\s]+@[^@\s]+$/.test(values.email)) {
    io.err(`--email is required and must be an email address\n${USAGE}`);
    return 2;
  }
  const expiresInS = values.expires === undefined ? 3600 : Number(values.expires);
  if (!Number.isInteger(expiresInS) || expiresInS < 1) {
    io.err(`--expires must be a positive whole number of seconds\n${USAGE}`);
    return 2;
  }

  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    io.err(error instanceof ConfigError ? error.message : String(error));
    return 1;
  }
  // A dev token in production would be useless at best; refusing keeps SECRET_KEY out of such tooling.
  if (config.environment === "production") {
    io.err("refusing to mint development tokens when ENVIRONMENT=production");
    return 2;
  }
  if (config.authMode === "production") {
    io.err("warning: AUTH_MODE=production; this server will not accept development tokens");
  }

  io.out(
    await signDevToken({
      secretKey: config.secretKey,
      email: values.email,
      name: values.name,
      oid: values.oid,
      sid: values.sid,
      expiresInS,
    }),
  );
  return 0;
}

if (import.meta.main) {
  process.exit(await runTokenCli(process.argv.slice(2)));
}
