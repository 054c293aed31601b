/*
 * Domain errors. Services throw these; the error plugin turns every one into an RFC 9457
 * problem+json body. `code` is the stable machine-readable identifier of api.md §1.7.
 */

export type FieldError = { path: string; message: string };

export const STATUS_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors?: FieldError[];
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    detail: string,
    options: {
      errors?: FieldError[];
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.errors = options.errors;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

export const badRequest = (detail: string, code = "MALFORMED_REQUEST") => new AppError(400, code, detail);
export const unauthenticated = (detail: string, code = "UNAUTHENTICATED") => new AppError(401, code, detail);
export const forbidden = (code: string, detail: string) => new AppError(403, code, detail);
export const notFound = (code: string, detail: string) => new AppError(404, code, detail);
export const conflict = (code: string, detail: string, extensions?: Record<string, unknown>) =>
  new AppError(409, code, detail, { extensions });
export const unprocessable = (
  code: string,
  detail: string,
  extensions?: Record<string, unknown>,
  errors?: FieldError[],
) => new AppError(422, code, detail, { extensions, errors });
export const validationFailed = (errors: FieldError[], detail = "The request did not pass validation.") =>
  new AppError(422, "VALIDATION_FAILED", detail, { errors });
export const serviceUnavailable = (code: string, detail: string, extensions?: Record<string, unknown>) =>
  new AppError(503, code, detail, { extensions });

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
    title: STATUS_TITLES[status] ?? "Error",
    status,
    detail,
    instance,
    code,
    requestId,
  };
  if (errors && errors.length > 0) body.errors = errors;
  return body;
}
