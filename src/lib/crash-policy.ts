import type { Logger } from "pino";

/*
 * What the process does with an error nothing caught (issue 13 item 1): a throw from a timer or
 * a rejection nobody awaited. The process state after one is unknown (a pool's bookkeeping, a
 * half-written stream), so it is logged once — with the request id when the failure belongs to
 * a request — and the process exits non-zero for the supervisor (cluster primary, systemd,
 * Docker) to start a clean one. It never carries on.
 */

export const CRASH_EXIT_CODE = 70; // EX_SOFTWARE (sysexits.h): an internal software error

export type CrashPolicyOptions = {
  logger: Logger;
  /** The request id of the code that failed, when it ran on behalf of a request. */
  requestId?: () => string | null | undefined;
  /** Tests replace the exit; the default flushes the logger and exits with CRASH_EXIT_CODE. */
  exit?: (code: number) => void;
};

/** Installs the handlers; returns a function that removes them again. */
export function installCrashPolicy({ logger, requestId, exit }: CrashPolicyOptions): () => void {
  let crashing = false;
  const die = (kind: "uncaughtException" | "unhandledRejection", error: unknown) => {
    // A second failure while exiting (e.g. from the flush) must not log twice or loop.
    if (crashing) return;
    crashing = true;
    let id: string | null = null;
    try {
      id = requestId?.() ?? null;
    } catch {
      /* the context lookup itself must never stop the exit */
    }
    try {
      logger.fatal({ err: error, kind, requestId: id ?? undefined }, `${kind}; exiting for a restart`);
      logger.flush?.();
    } catch {
      /* logging is best effort here */
    }
    (exit ?? ((code: number) => process.exit(code)))(CRASH_EXIT_CODE);
  };
  const onException = (error: unknown) => die("uncaughtException", error);
  const onRejection = (reason: unknown) => die("unhandledRejection", reason);
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return () => {
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
}
