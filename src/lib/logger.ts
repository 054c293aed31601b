import { createRequire } from "node:module";
import { hostname } from "node:os";
import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";
import type { Config, LogLevel } from "@/config";
import { MASK, maskSecrets, scrubSecretText } from "@/lib/mask";
import type { Tracing } from "@/lib/tracing";

/*
 * One logger factory for the whole process. Production writes one JSON object per line
 * (`ts`, `level` as a label, then the fields) for the log shipper; development pretty-prints.
 * Secrets are removed twice: pino's `redact` blanks well-known header paths cheaply, and the
 * `log` formatter deep-masks every logged object with the same rules as the audit trail, so a
 * token logged under an unexpected key or inside an error message still never reaches output.
 */

export type { Logger } from "pino";

export type CreateLoggerOptions = {
  level: LogLevel;
  /** Human-readable output (development). Falls back to JSON when pino-pretty is unavailable. */
  pretty?: boolean;
  /** Fields on every line (app, version, worker index, ...); pid and hostname are always added. */
  base?: Record<string, unknown>;
  /** Where lines go; stdout when omitted. Tests pass a capturing stream. */
  destination?: DestinationStream;
  /** Fields added to every line at write time (the active trace's ids when tracing is on). */
  mixin?: () => object;
};

/* Header locations as they appear in request/response log objects and HTTP client errors. */
const SECRET_HEADERS = [
  "authorization",
  "cookie",
  '["set-cookie"]',
  '["x-api-key"]',
  '["proxy-authorization"]',
  '["x-functions-key"]',
  '["ocp-apim-subscription-key"]',
];
const HEADER_PARENTS = ["headers", "req.headers", "request.headers", "res.headers", "response.headers"];

export const REDACT_PATHS: readonly string[] = HEADER_PARENTS.flatMap((parent) =>
  SECRET_HEADERS.map((h) => (h.startsWith("[") ? `${parent}${h}` : `${parent}.${h}`)),
).concat(SECRET_HEADERS.map((h) => (h.startsWith("[") ? `*.headers${h}` : `*.headers.${h}`)));

/*
 * pino-pretty is a development dependency: it is resolved at run time (not bundled) so the
 * compiled production binary stays lean, and a missing module degrades to JSON lines.
 */
function prettyStream(): DestinationStream | null {
  try {
    const require = createRequire(import.meta.url);
    const moduleName = "pino-pretty";
    const pretty = require(moduleName) as (options: Record<string, unknown>) => DestinationStream;
    return pretty({
      colorize: true,
      sync: true,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname",
    });
  } catch {
    return null;
  }
}

function scrubArgs(args: unknown[]): unknown[] {
  const out = args.map((arg) => (typeof arg === "string" ? scrubSecretText(arg) : arg));
  // pino copies an Error's raw message into `msg` when no message is given; supply a scrubbed one.
  const first = out[0];
  if (first instanceof Error && typeof out[1] !== "string") {
    out.splice(1, 0, scrubSecretText(first.message));
  }
  return out;
}

/*
 * pino formats child bindings once, without the `bindings` formatter, so a child created with
 * `{ token }` would print it verbatim; re-mask the pre-rendered bindings whenever a child is made.
 */
function maskChildBindings(child: Logger): void {
  const holder = child as unknown as Record<symbol, string>;
  const rendered = holder[pino.symbols.chindingsSym];
  if (!rendered) return;
  try {
    const masked = maskSecrets(JSON.parse(`{${rendered.slice(1)}}`) as Record<string, unknown>);
    holder[pino.symbols.chindingsSym] = Object.entries(masked)
      .map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`)
      .join("");
  } catch {
    // Unparseable bindings (custom stringifiers) are left as pino rendered them.
  }
}

/*
 * The per-request access line has a fixed shape of non-secret fields (ids, route template,
 * status, timings), so it skips the redaction paths, the deep mask and the scrub hook that make
 * a general log call cost tens of microseconds; `logRequestLine` uses this sibling logger. It
 * writes to the same destination with the same level, base fields and line format.
 */
const requestLineSym = Symbol("camp.requestLineLogger");

type WithRequestLine = Logger & { [requestLineSym]?: Logger };

/** The access-log writer for `logger` (itself when it was not made by `createLogger`). */
export function requestLineLogger(logger: Logger): Logger {
  const fast = (logger as WithRequestLine)[requestLineSym];
  if (!fast) return logger;
  // Follows level changes made on the main logger at run time.
  if (fast.level !== logger.level) fast.level = logger.level;
  return fast;
}

/*
 * Standard output through Bun's buffered file sink: the lines of one event-loop turn (many
 * requests finish in the same turn under load) go out in one write(2) instead of one each.
 * The buffer is flushed at the end of the turn, on `flush()`, and when the process exits.
 */
function stdoutDestination(): DestinationStream & {
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
} {
  const sink = Bun.stdout.writer({ highWaterMark: 64 * 1024 });
  let scheduled = false;
  const flushNow = () => {
    scheduled = false;
    void sink.flush();
  };
  process.on("exit", () => void sink.flush());
  return {
    write(chunk: string) {
      sink.write(chunk);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushNow);
      }
    },
    flush(cb) {
      flushNow();
      cb?.();
    },
    flushSync: flushNow,
  };
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const stream = options.pretty && !options.destination ? prettyStream() : null;
  const pretty = stream !== null;
  const pinoOptions: LoggerOptions = {
    level: options.level,
    base: { pid: process.pid, hostname: hostname(), ...options.base },
    redact: { paths: [...REDACT_PATHS], censor: MASK },
    formatters: {
      // pino-pretty colours numeric levels; the JSON form uses labels for log queries.
      ...(pretty ? {} : { level: (label: string) => ({ level: label }) }),
      bindings: (bindings) => maskSecrets(bindings),
      log: (object) => maskSecrets(object),
    },
    // Errors are already turned into scrubbed records by the `log` formatter.
    serializers: { err: (value: unknown) => value },
    onChild: maskChildBindings,
    hooks: {
      logMethod(args, method) {
        method.apply(this, scrubArgs(args) as Parameters<typeof method>);
      },
    },
    ...(pretty ? {} : { timestamp: () => `,"ts":"${new Date().toISOString()}"` }),
    ...(options.mixin ? { mixin: options.mixin } : {}),
  };
  const destination = options.destination ?? stream ?? stdoutDestination();
  const logger = pino(pinoOptions, destination) as WithRequestLine;
  if (!pretty) {
    logger[requestLineSym] = pino(
      {
        level: options.level,
        base: pinoOptions.base,
        formatters: { level: (label: string) => ({ level: label }) },
        timestamp: pinoOptions.timestamp,
        ...(options.mixin ? { mixin: options.mixin } : {}),
      },
      destination,
    );
  }
  return logger;
}

/** The process logger as configured: JSON outside development, pretty in development. */
export function createAppLogger(
  config: Config,
  base: Record<string, unknown> = {},
  tracing?: Pick<Tracing, "enabled" | "activeIds">,
): Logger {
  return createLogger({
    level: config.logLevel,
    pretty: config.environment === "development",
    base: { app: config.appName, version: config.version, env: config.environment, ...base },
    // Only with tracing on: the lookup would otherwise cost every line for nothing.
    ...(tracing?.enabled ? { mixin: () => tracing.activeIds() ?? {} } : {}),
  });
}
