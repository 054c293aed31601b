import type { LlmErrorKind } from "./types";

/*
 * Retry policy of analysis.md §5.8. The SDKs run with `maxRetries: 0` so that every HTTP attempt
 * is measured and bounded by the turn deadline here.
 */

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 409, 429, 500, 502, 503, 504, 529]);

export type BackoffOptions = {
  /** First back-off step; full jitter draws from [0, min(cap, base·2^(n−1))). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A server hint (`retry-after`) longer than this is clamped, so a bogus header cannot park a turn. */
  maxHintMs: number;
  random: () => number;
};

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseDelayMs: 1000,
  maxDelayMs: 20_000,
  maxHintMs: 120_000,
  random: Math.random,
};

type HeaderBag = { get(name: string): string | null } | Record<string, string | undefined> | null | undefined;

function header(headers: HeaderBag, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name);
  }
  const bag = headers as Record<string, string | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  return key === undefined ? null : (bag[key] ?? null);
}

/** The server's wait hint in ms: `retry-after-ms`, else `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(headers: HeaderBag, now = Date.now()): number | null {
  const ms = header(headers, "retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const after = header(headers, "retry-after");
  if (after === null || after.trim() === "") return null;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : null;
  const date = Date.parse(after);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Delay before retry number `failedAttempts` (1 after the first failure). */
export function retryDelayMs(
  failedAttempts: number,
  headers: HeaderBag,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const hinted = retryAfterMs(headers);
  if (hinted !== null) return Math.min(hinted, options.maxHintMs);
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.floor(options.random() * ceiling);
}

/** The error kind an HTTP status stands for. */
export function kindForStatus(status: number): LlmErrorKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 429) return "rate_limited";
  if (status === 408) return "timeout";
  if (status === 409 || status >= 500) return "upstream";
  return "bad_request";
}

export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || RETRYABLE_STATUSES.has(status);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
