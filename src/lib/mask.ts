/*
 * Secret masking shared by audit rows, activity bodies and logs (api.md §4.2 "Masking").
 * Keys are judged by their word parts (split on `_`, `-`, `.`, spaces and camelCase humps) so
 * that `accessToken`, `SECRET_KEY` and `x-api-key` are caught while ordinary words that merely
 * contain a fragment — `author`, `keyboard`, `secretary`, `monkey` — are left alone.
 */

export const MASK = "***";
export const NESTED_MASK = "***NESTED***";
export const DEFAULT_MASK_DEPTH = 10;

/* Exact names, compared with case and separators removed (`api_key` = `apiKey` = `APIKEY`). */
const EXACT_NAMES = new Set([
  "password",
  "token",
  "secret",
  "authorization",
  "proxyauthorization",
  "apikey",
  "accesstoken",
  "refreshtoken",
  "sessiontoken",
  "idtoken",
  "clientsecret",
  "connectionstring",
  "sas",
  "credential",
  "credentials",
  "bearer",
  "cookie",
  "setcookie",
]);

/*
 * Word parts that mark a secret wherever they appear (`*secret*`, `*token*`). The plural
 * `tokens` is deliberately absent: in this product it names LLM token counts (`maxTokens`,
 * `outputTokens`), which are numbers worth keeping.
 */
const SECRET_PARTS = new Set(["password", "passwords", "passwd", "secret", "secrets", "token"]);

/* Lower-cased word parts of a key: `clientSecretKey` → client, secret, key; `API_KEY` → api, key. */
export function keyParts(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[\s_\-.:/]+/)
    .filter(Boolean)
    .map((p) => p.toLowerCase());
}

/** True when a value stored under this key must never be shown. */
export function isSecretKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[\s_\-.]/g, "");
  if (EXACT_NAMES.has(normalised)) return true;
  const parts = keyParts(key);
  // Predicates (`isSecret`, `has_password`) name a flag about a secret, never the secret itself.
  if (parts.length >= 2 && (parts[0] === "is" || parts[0] === "has")) return false;
  if (parts.some((p) => SECRET_PARTS.has(p))) return true;
  // `*password*` has no ordinary-word false positives, so it also matches run-together keys.
  if (normalised.includes("password")) return true;
  const n = parts.length;
  // `*_key` / `*Key`: a trailing `key` part after a qualifier; a bare `key` is e.g. a storage path.
  if (n >= 2 && parts[n - 1] === "key") return true;
  if (n >= 2 && parts[n - 2] === "connection" && parts[n - 1] === "string") return true;
  return false;
}

/*
 * Secrets that leak into free text (an error message quoting a header, a URL with a SAS
 * signature) are scrubbed too, so a value logged under an innocent key still hides them.
 */
const TEXT_PATTERNS: [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi, `$1 ${MASK}`],
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, MASK],
  [/\b(AccountKey|SharedAccessKey|SharedAccessSignature|Password|pwd)=[^;&\s]+/gi, `$1=${MASK}`],
  [/([?&](?:sig|token|access_token|code|key|api_key|apikey|password|secret)=)[^&#\s]+/gi, `$1${MASK}`],
  [/(\/\/[^/\s:@]+:)[^@\s/]+@/g, `$1${MASK}@`],
];

/** Replaces bearer tokens, JWTs, connection-string keys and URL credentials inside a string. */
export function scrubSecretText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function isPlainRecord(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function maskAt(value: unknown, depth: number): unknown {
  if (typeof value === "string") return scrubSecretText(value);
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return value;
  if (ArrayBuffer.isView(value)) return `[binary ${value.byteLength} bytes]`;
  if (value instanceof ArrayBuffer) return `[binary ${value.byteLength} bytes]`;
  if (depth <= 0) return NESTED_MASK;

  if (Array.isArray(value)) return value.map((item) => maskAt(item, depth - 1));

  if (value instanceof Error) {
    // Errors become plain records so pino's serializer and JSON both see the scrubbed text.
    const out: Record<string, unknown> = {
      type: value.name,
      message: scrubSecretText(value.message),
      stack: value.stack === undefined ? undefined : scrubSecretText(value.stack),
    };
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? MASK : maskAt(v, depth - 1);
    if (value.cause !== undefined) out.cause = maskAt(value.cause, depth - 1);
    return out;
  }

  if (value instanceof Headers) return maskAt(Object.fromEntries(value.entries()), depth);
  if (value instanceof Map) return maskAt(Object.fromEntries(value), depth);
  if (value instanceof Set) return maskAt([...value], depth);
  if (!isPlainRecord(value) && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return maskAt((value as { toJSON: () => unknown }).toJSON(), depth);
  }

  const record = value as Record<string, unknown>;
  // Settings rows flagged as secret hide their value whatever the key is called.
  const flaggedSecret = record.isSecret === true || record.is_secret === true;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (v === undefined) continue;
    if (isSecretKey(k) || (flaggedSecret && (k === "value" || k === "oldValue" || k === "newValue"))) {
      out[k] = MASK;
    } else {
      out[k] = maskAt(v, depth - 1);
    }
  }
  return out;
}

/**
 * A deep copy of `value` with secret-named keys replaced by `***`, secrets inside strings
 * scrubbed, and anything nested deeper than `depth` objects replaced by `***NESTED***`.
 * The input is never modified.
 */
export function maskSecrets<T = unknown>(value: T, depth: number = DEFAULT_MASK_DEPTH): T {
  return maskAt(value, depth) as T;
}

/** The path of a URL without query string or fragment (query strings may carry tokens). */
export function stripQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}
