import { type AppError, type FieldError, problem } from "@/lib/errors";

/*
 * Values the framework accepts but PostgreSQL (or the process) cannot take, refused at the edge
 * as 4xx instead of surfacing as a 500 from the driver:
 * - NUL characters (text columns refuse U+0000) and lone UTF-16 surrogates (jsonb and UTF-8
 *   refuse them), in any string of the query, path, JSON body or a multipart filename;
 * - `__proto__` / `constructor` / `prototype` keys, which would reach object spreads and merges;
 * - JSON nested deeper than MAX_JSON_DEPTH: checked by a linear scan of the text before
 *   JSON.parse, so neither parsing, validation (which formats the failing value) nor any later
 *   recursive walk sees a 20,000-level document.
 */

export const MAX_JSON_DEPTH = 64;

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
export function badStringReason(s: string): string | null {
  if (s.includes("\u0000")) return "must not contain NUL characters";
  // A surrogate half without its partner (String.prototype.isWellFormed, ES2024).
  if (!(s as string & { isWellFormed(): boolean }).isWellFormed()) {
    return "must not contain unpaired UTF-16 surrogates";
  }
  return null;
}

/** Depth of the deepest array/object of a JSON text, scanning at most until `max` is passed. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

const pointer = (base: string, key: string | number) =>
  `${base}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;

/**
 * Field errors for every bad string or key in `value` (iterative; the depth is already bounded
 * for bodies, and query/params are flat). At most `limit` errors are collected.
 */
export function inspectValue(value: unknown, base: string, limit = 20): FieldError[] {
  const errors: FieldError[] = [];
  const stack: [unknown, string][] = [[value, base]];
  while (stack.length > 0 && errors.length < limit) {
    const [v, path] = stack.pop()!;
    if (typeof v === "string") {
      const reason = badStringReason(v);
      if (reason) errors.push({ path, message: `The value ${reason}.` });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], pointer(path, i)]);
    } else if (v !== null && typeof v === "object") {
      for (const key of Object.keys(v)) {
        const keyReason = FORBIDDEN_KEYS.has(key) ? "is a reserved name" : badStringReason(key);
        if (keyReason) errors.push({ path: pointer(path, key), message: `The key ${keyReason}.` });
        else stack.push([(v as Record<string, unknown>)[key], pointer(path, key)]);
      }
    }
  }
  return errors;
}

/**
 * `inspectValue` for the flat records of query strings and path parameters: a clean one (the
 * usual case) is passed without building a path per key; anything else gets the full inspection.
 */
export function inspectFlat(value: Record<string, unknown> | null | undefined, base: string): FieldError[] {
  if (!value) return [];
  for (const key in value) {
    const v = value[key];
    if (typeof v !== "string" || FORBIDDEN_KEYS.has(key) || badStringReason(key) || badStringReason(v)) {
      return inspectValue(value, base);
    }
  }
  return [];
}

export const inputRefused = (errors: FieldError[]): AppError =>
  problem("VALIDATION_FAILED", { detail: "The request contains values that cannot be accepted.", errors });

/**
 * Parses a JSON request body. Returns the value, or the error to answer (syntax, depth, bad
 * strings or keys); the caller decides when to raise it, so authentication can answer first.
 */
export function parseJsonBody(text: string): { value: unknown } | { error: AppError } {
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    return {
      error: problem("VALIDATION_FAILED", {
        detail: `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`,
        errors: [{ path: "/body", message: `Nesting deeper than ${MAX_JSON_DEPTH} levels is not accepted.` }],
        extensions: { maxDepth: MAX_JSON_DEPTH },
      }),
    };
  }
  let value: unknown;
  try {
    // `__proto__` as a JSON key creates an own property (not the prototype), caught below.
    value = JSON.parse(text);
  } catch {
    return { error: problem("MALFORMED_REQUEST", { detail: "The request body is not valid JSON." }) };
  }
  const errors = inspectValue(value, "/body");
  return errors.length > 0 ? { error: inputRefused(errors) } : { value };
}
