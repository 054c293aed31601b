import type { Logger } from "pino";
import type { Config } from "@/config";
import { isConnectionError, pgErrorCode } from "@/db/pg-errors";
import { EngineError } from "@/engine";
import { AppError, type FieldError, problemBody } from "@/lib/errors";
import { PROBLEMS, type ProblemCode } from "@/lib/problems";
import { StorageUnavailableError, storageFault } from "@/lib/storage/types";

export { isConnectionError };

/*
 * The single mapper from anything thrown (or any framework failure) to an RFC 9457 problem
 * response. It never leaks stacks or SQL outside development.
 */

function causes(error: unknown): unknown[] {
  const out: unknown[] = [];
  let e: unknown = error;
  for (let i = 0; e && i < 5; i++) {
    out.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

type ElysiaValidationIssue = { path?: string; message?: string; summary?: string };

export function validationErrors(error: unknown): FieldError[] {
  const e = error as { all?: ElysiaValidationIssue[]; type?: string; on?: string };
  const location = e.type ?? e.on ?? "body";
  const all = Array.isArray(e.all) ? e.all : [];
  const list = all.map((issue) => ({
    path: `/${location}${issue.path ?? ""}`,
    message: issue.summary ?? issue.message ?? "Invalid value",
  }));
  return list.length > 0 ? list : [{ path: `/${location}`, message: "Invalid value" }];
}

export type MappedError = {
  status: number;
  code: string;
  detail: string;
  errors?: FieldError[];
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
};

/** A mapped error for a catalogue code, with the catalogue's status and default detail. */
export function mappedProblem(
  code: ProblemCode,
  more: Omit<MappedError, "status" | "code" | "detail"> & { detail?: string } = {},
): MappedError {
  const { status, detail } = PROBLEMS[code];
  return { status, code, ...more, detail: more.detail ?? detail };
}

export function mapError(
  code: string | number,
  error: unknown,
  _config: Config,
  logger: Logger,
  log: Record<string, unknown>,
): MappedError {
  // Errors thrown inside a parse hook arrive wrapped by the framework.
  const own = causes(error).find((e) => e instanceof AppError) as AppError | undefined;
  if (own) error = own;
  if (error instanceof EngineError) {
    return {
      status: error.status,
      code: error.code,
      detail: error.detail,
      errors: error.errors.length > 0 ? error.errors : undefined,
      extensions: error.extensions as Record<string, unknown>,
    };
  }
  if (error instanceof AppError) {
    return {
      status: error.status,
      code: error.code,
      detail: error.message,
      errors: error.errors,
      extensions: error.extensions,
      headers: error.headers,
    };
  }
  switch (code) {
    case "VALIDATION":
      // An answer that fails its own schema is the server's bug, not the client's input.
      if ((error as { type?: string }).type === "response") {
        logger.error({ ...log, err: error }, "response failed its schema");
        return mappedProblem("INTERNAL_ERROR");
      }
      return mappedProblem("VALIDATION_FAILED", { errors: validationErrors(error) });
    case "PARSE":
      return mappedProblem("MALFORMED_REQUEST", { detail: "The request body could not be parsed." });
    case "INVALID_COOKIE_SIGNATURE":
    case "INVALID_FILE_TYPE":
      return mappedProblem("MALFORMED_REQUEST");
    case "NOT_FOUND":
      return mappedProblem("ROUTE_NOT_FOUND");
  }
  const storage =
    (causes(error).find((e) => e instanceof StorageUnavailableError) as
      | StorageUnavailableError
      | undefined) ?? storageFault(error);
  if (storage) {
    logger.error({ ...log, err: error }, "storage unavailable");
    return storage.reason === "full"
      ? mappedProblem("INSUFFICIENT_STORAGE", { headers: { "Retry-After": "60" } })
      : mappedProblem("DEPENDENCY_UNAVAILABLE", {
          detail: "File storage is not writable right now. Try again shortly.",
          headers: { "Retry-After": "10" },
        });
  }
  if (isConnectionError(error)) {
    logger.error({ ...log, err: error }, "dependency unavailable");
    return mappedProblem("DEPENDENCY_UNAVAILABLE", { headers: { "Retry-After": "1" } });
  }
  // SQLSTATE class 22 (data exception): a value the database cannot take (out of range, NUL,
  // untranslatable character) that no schema caught. The client's fault, so 422, never 500.
  const sqlState = pgErrorCode(error);
  if (sqlState?.startsWith("22")) {
    logger.warn({ ...log, err: error, sqlState }, "value refused by the database");
    return mappedProblem("VALIDATION_FAILED", {
      detail: "A value in the request is out of range or cannot be stored.",
    });
  }
  logger.error({ ...log, err: error }, "unhandled error");
  // Not even in development: driver messages carry SQL and parameter values; the log has them.
  return mappedProblem("INTERNAL_ERROR");
}

export function problemResponse(
  mapped: MappedError,
  instance: string,
  requestId: string,
  headers: Record<string, string>,
): Response {
  const body = problemBody(
    mapped.status,
    mapped.code,
    mapped.detail,
    instance,
    requestId,
    mapped.errors,
    mapped.extensions,
  );
  return new Response(JSON.stringify(body), {
    status: mapped.status,
    headers: {
      ...headers,
      ...mapped.headers,
      "Content-Type": "application/problem+json",
      "Cache-Control": "no-store",
    },
  });
}
