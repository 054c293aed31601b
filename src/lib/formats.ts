import { FormatRegistry } from "@sinclair/typebox";
import { fullFormats } from "elysia/type-system/format";

/*
 * TypeBox string formats, registered after `@elysiajs/openapi` is loaded. That plugin bundles
 * `@sinclair/typemap`, which replaces the global `FormatRegistry` entries (`uuid`, `email`, `date`,
 * `url`, `ipv4`, …) with checks that build a new Zod schema on every call
 * (`check(string().uuid(), value)`): every `format: "uuid"` path parameter paid for an object
 * graph per request. These are precompiled regexes / ajv-formats' functions instead.
 */

/* Any RFC 4122 layout (no `urn:uuid:` prefix, which PostgreSQL would reject as a uuid literal). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type FormatCheck = (value: string) => boolean;
/* Our own date-time wrappers and the check each one falls back to (one wrapper, never two). */
const fastDateTime = new WeakMap<FormatCheck, FormatCheck>();

/** The check a fast wrapper falls back to (tests compare the two); the check itself otherwise. */
export const fallbackOf = (check: FormatCheck): FormatCheck => fastDateTime.get(check) ?? check;

const asCheck = (v: unknown): FormatCheck | null =>
  v instanceof RegExp
    ? (value) => v.test(value)
    : typeof v === "function"
      ? (v as FormatCheck)
      : typeof v === "object" && v !== null && "validate" in v
        ? asCheck((v as { validate: unknown }).validate)
        : null;

/* The formats typemap overrides that have a cheap equivalent; others keep whatever is registered. */
const OVERRIDDEN = ["date", "email", "ipv4", "ipv6", "url", "time", "duration"] as const;

/*
 * The canonical ISO 8601 form every response timestamp has (`Date#toISOString`, offsets). Matched
 * first, anchored, so the common case skips Elysia's check (quote stripping, three unanchored
 * alternatives); anything else still goes to the check registered before, so the set of accepted
 * values is unchanged.
 */
const CANONICAL_DATE_TIME =
  /^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-][0-2]\d:[0-5]\d)$/;

export function registerFastFormats(): void {
  const dateTime = FormatRegistry.Get("date-time");
  if (dateTime && !fastDateTime.has(dateTime)) {
    const check: FormatCheck = (value) =>
      (CANONICAL_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) || dateTime(value);
    fastDateTime.set(check, dateTime);
    FormatRegistry.Set("date-time", check);
  }
  FormatRegistry.Set("uuid", (value) => UUID.test(value));
  const formats = fullFormats as Record<string, unknown>;
  for (const name of OVERRIDDEN) {
    const check = asCheck(formats[name]);
    if (check) FormatRegistry.Set(name, check);
  }
  // typemap registers `ip` (either family) under its own name.
  const v4 = asCheck(formats.ipv4);
  const v6 = asCheck(formats.ipv6);
  if (v4 && v6) FormatRegistry.Set("ip", (value) => v4(value) || v6(value));
}
