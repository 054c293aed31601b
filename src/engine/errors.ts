/*
 * Engine errors. The engine has no HTTP dependency; the service layer maps an EngineError onto
 * problem+json one to one: `code`, `status`, `detail`, `errors[]` and the flat extension members
 * of analysis.md §0 (`availableColumns`, `suggestions`, `limitName`, …).
 */

export type EngineFieldError = { path: string; message: string };

export type EngineExtensions = {
  reason?: string;
  availableSheets?: string[];
  availableAxes?: string[];
  availableColumns?: string[];
  availableSubjects?: string[];
  availableValues?: { column: string; values: (string | null)[]; more: boolean };
  availableSteps?: { stepKey: string; name: string; type: string }[];
  allowed?: string[];
  suggestions?: string[];
  dependants?: { stepKey: string; name: string }[];
  limitName?: string;
  limit?: number;
  actual?: number;
  line?: number;
  index?: number;
  [member: string]: unknown;
};

export class EngineError extends Error {
  readonly code: string;
  readonly status: number;
  readonly detail: string;
  readonly extensions: EngineExtensions;
  readonly errors: EngineFieldError[];

  constructor(
    code: string,
    status: number,
    detail: string,
    extensions: EngineExtensions = {},
    errors: EngineFieldError[] = [],
  ) {
    super(detail);
    this.name = "EngineError";
    this.code = code;
    this.status = status;
    this.detail = detail;
    this.extensions = extensions;
    this.errors = errors;
  }

  toJSON() {
    return {
      code: this.code,
      status: this.status,
      detail: this.detail,
      errors: this.errors,
      ...this.extensions,
    };
  }
}

export const PARSE_REASONS = [
  "NO_SEPARATOR_ROW",
  "NO_HEADER_ROWS",
  "NO_DATA_ROWS",
  "EMPTY_AXIS_NAME",
  "DUPLICATE_AXIS_NAME",
  "RESERVED_AXIS_NAME",
  "EMPTY_SUBJECT_LABEL",
  "DUPLICATE_COMBINATION",
  "ENCODING_UNSUPPORTED",
  "CSV_MALFORMED",
] as const;
export type ParseReason = (typeof PARSE_REASONS)[number];

/** A §1.4–§1.6 rule is broken: `detail` starts with the reason, `errors[]` lists ≤ 10 occurrences. */
export function sheetParseError(
  reason: ParseReason,
  message: string,
  occurrences: EngineFieldError[] = [],
  extensions: EngineExtensions = {},
): EngineError {
  return new EngineError(
    "SHEET_PARSE_ERROR",
    422,
    `${reason}: ${message}`,
    { reason, ...extensions },
    occurrences.slice(0, 10),
  );
}

export function limitExceeded(limitName: string, limit: number, actual: number, hint = ""): EngineError {
  return new EngineError(
    "ANALYSIS_LIMIT_EXCEEDED",
    422,
    `The ${limitName} limit of ${limit} is exceeded (${actual})${hint ? `; ${hint}` : ""}`,
    { limitName, limit, actual },
  );
}

export function stepConfigInvalid(
  detail: string,
  path: string,
  message: string,
  extensions: EngineExtensions = {},
): EngineError {
  return new EngineError("STEP_CONFIG_INVALID", 422, detail, extensions, [{ path, message }]);
}

export function stepReferenceInvalid(
  detail: string,
  path: string,
  extensions: EngineExtensions = {},
): EngineError {
  return new EngineError("STEP_REFERENCE_INVALID", 422, detail, extensions, [{ path, message: detail }]);
}

export const isEngineError = (e: unknown): e is EngineError => e instanceof EngineError;
