import { PROBLEMS, type ProblemCode, problemSpec } from "@/lib/problems";

/*
 * Domain errors. Services throw `problem(code, …)`; the error plugin turns every one into an
 * RFC 9457 problem+json body. `code` is a catalogue code (src/lib/problems.ts, api.md §1.7), and
 * the catalogue fixes its status, so a throw site cannot pair a code with the wrong status.
 */

export type FieldError = { path: string; message: string };

export type ProblemOptions = {
  /** What this occurrence adds to the catalogue's default detail (names, limits, …). */
  detail?: string;
  errors?: FieldError[];
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
};

export class AppError extends Error {
  readonly status: number;
  readonly code: ProblemCode;
  readonly errors?: FieldError[];
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(code: ProblemCode, options: ProblemOptions = {}) {
    const spec = PROBLEMS[code];
    super(options.detail ?? spec.detail, { cause: options.cause });
    this.name = "AppError";
    this.status = spec.status;
    this.code = code;
    this.errors = options.errors;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

/** The error for a catalogue code: `throw problem("FILE_NOT_FOUND")`. */
export const problem = (code: ProblemCode, options?: ProblemOptions): AppError => new AppError(code, options);

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  requestId: string;
  errors?: FieldError[];
  [extension: string]: unknown;
};

export function problemBody(
  status: number,
  code: string,
  detail: string,
  instance: string,
  requestId: string,
  errors?: FieldError[],
  extensions: Record<string, unknown> = {},
): Problem {
  const body: Problem = {
    ...extensions,
    type: `urn:camp-backend:problem:${code}`,
    title: problemSpec(code, status).title,
    status,
    detail,
    instance,
    code,
    requestId,
  };
  if (errors && errors.length > 0) body.errors = errors;
  return body;
}
