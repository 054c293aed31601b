import { parseArgs } from "node:util";
import pino from "pino";
import { ConfigError, getConfig } from "@/config";

/*
 * Entry point of the compiled binary and of `bun src/index.ts`:
 * `camp-backend serve [--worker N] | migrate | status | rollback [n] | seed [--force] | healthcheck |
 * storage-layout [--apply]`.
 * `healthcheck` exists so container HEALTHCHECKs need no curl. `--help` anywhere prints usage and
 * does nothing else (it is checked before any configuration is read); unknown commands, options
 * and extra arguments exit 2 with the usage on stderr.
 */

const ENV_NOTE =
  "Configuration comes from the environment (DATABASE_URL, REDIS_URL, PORT, ENVIRONMENT, …; see .env.*.example).";

const USAGE = `usage: camp-backend [command] [options]

Commands:
  serve [--worker <n>]   Start the HTTP server (the default command). WORKERS > 1 starts a primary
                         that runs that many workers.
  migrate                Apply pending database migrations.
  status                 List the migrations and whether each is applied.
  rollback [steps]       Roll back the last <steps> migrations (default 1).
  seed [--force]         Load the analysis catalogue from the seed folder and the dev admin.
  healthcheck            Exit 0 when GET /health on the configured port answers 200.
  storage-layout [--apply]
                         Move a local store from the old folder-per-container form into the
                         seed's layout (dry run unless --apply).

Options:
  -h, --help             Show this help; '<command> --help' shows the command's own.

${ENV_NOTE}`;

type Command = {
  usage: string;
  summary: string;
  options: Record<string, { type: "string" | "boolean" }>;
  positionals: string[];
};

const COMMANDS: Record<string, Command> = {
  serve: {
    usage: "camp-backend serve [--worker <n>]",
    summary:
      "Start the HTTP server. With WORKERS > 1 a primary process starts and supervises the workers;\n--worker <n> runs one worker (the primary passes it).",
    options: { worker: { type: "string" } },
    positionals: [],
  },
  migrate: {
    usage: "camp-backend migrate",
    summary: "Apply pending database migrations.",
    options: {},
    positionals: [],
  },
  status: {
    usage: "camp-backend status",
    summary: "List the migrations, when each was applied, and any changed since it was applied.",
    options: {},
    positionals: [],
  },
  rollback: {
    usage: "camp-backend rollback [steps]",
    summary: "Roll back the last <steps> applied migrations (default 1).",
    options: {},
    positionals: ["steps"],
  },
  seed: {
    usage: "camp-backend seed [--force]",
    summary:
      "Load the analysis catalogue from the seed folder and create the dev admin.\n--force overwrites catalogue rows that were edited since the last seed.",
    options: { force: { type: "boolean" } },
    positionals: [],
  },
  healthcheck: {
    usage: "camp-backend healthcheck",
    summary: "Exit 0 when GET /health on the configured HOST/PORT answers 200 within 3 s, else 1.",
    options: {},
    positionals: [],
  },
  "storage-layout": {
    usage: "camp-backend storage-layout [--apply]",
    summary:
      "Move objects of the local store (LOCAL_STORAGE_PATH) from the old folder-per-container form\n(uploads/uploads/projects/…, uploads/analysis/analysis/…) into the seed's layout\n(uploads/projects/…, uploads/analysis/…, uploads/temp/…). Without --apply it only lists the\nmoves. Safe to run again. Stop the server first. Exits 1 when a conflict was found.",
    options: { apply: { type: "boolean" } },
    positionals: [],
  },
};

const commandHelp = (c: Command) => `usage: ${c.usage}\n\n${c.summary}\n\n${ENV_NOTE}`;

export type CliIo = { out: (text: string) => void; err: (text: string) => void };
const consoleIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

const isHelp = (a: string) => a === "--help" || a === "-h";

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

async function storageLayout(apply: boolean, io: CliIo): Promise<number> {
  const config = getConfig();
  if (config.storageBackend !== "local") {
    io.out("STORAGE_BACKEND is not local: Azure containers keep their layout; nothing to move.");
    return 0;
  }
  const { migrateLocalLayout } = await import("@/lib/storage/layout-migration");
  const report = await migrateLocalLayout(config.localStoragePath, { apply });
  const verb = apply ? "moved" : "would move";
  for (const m of report.moves) io.out(`${verb} ${m.from} -> ${m.to}`);
  for (const m of report.duplicates)
    io.out(`${apply ? "removed" : "would remove"} duplicate ${m.from} (same bytes at ${m.to})`);
  for (const m of report.conflicts) io.err(`conflict: ${m.from} and ${m.to} differ; left both in place`);
  for (const p of report.skipped) io.out(`skipped ${p} (not a regular file, or an interrupted write)`);
  io.out(
    `${apply ? "" : "dry run: "}${report.moves.length} to move, ${report.duplicates.length} duplicates, ${report.conflicts.length} conflicts, ${report.skipped.length} skipped${apply ? "" : " (run with --apply to move)"}`,
  );
  return report.conflicts.length > 0 ? 1 : 0;
}

async function serve(worker: string | undefined, io: CliIo): Promise<number | undefined> {
  let workerIndex: number | null = null;
  if (worker !== undefined) {
    if (!/^\d+$/.test(worker)) {
      io.err(
        `camp-backend serve: --worker needs a worker number, got '${worker}'\n\n${commandHelp(COMMANDS.serve)}`,
      );
      return 2;
    }
    workerIndex = Number(worker);
  }
  const config = getConfig();
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

export async function main(argv: string[], io: CliIo = consoleIo): Promise<number | undefined> {
  const [first = "serve", ...rest] = argv;
  if (isHelp(first)) {
    io.out(USAGE);
    return 0;
  }
  const command = COMMANDS[first];
  if (!command) {
    const what = first.startsWith("-") ? `unknown option '${first}'` : `unknown command '${first}'`;
    io.err(`camp-backend: ${what}\n\n${USAGE}`);
    return 2;
  }
  // Help wins over everything else on the line, so `migrate --help` can never migrate.
  if (rest.some(isHelp)) {
    io.out(commandHelp(command));
    return 0;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: command.options,
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    // node's messages go on to explain `--`; the first sentence is the point.
    const message = (error as Error).message.split(". ")[0];
    io.err(`camp-backend ${first}: ${message}\n\n${commandHelp(command)}`);
    return 2;
  }
  if (positionals.length > command.positionals.length) {
    io.err(
      `camp-backend ${first}: unexpected argument '${positionals[command.positionals.length]}'\n\n${commandHelp(command)}`,
    );
    return 2;
  }
  switch (first) {
    case "serve":
      return serve(values.worker as string | undefined, io);
    case "healthcheck":
      return healthcheck();
    case "storage-layout":
      return storageLayout(values.apply === true, io);
    default: {
      const { runDbCommand } = await import("@/cli/db");
      return runDbCommand([first, ...positionals, ...(values.force ? ["--force"] : [])]);
    }
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
