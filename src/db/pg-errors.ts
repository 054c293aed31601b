/*
 * PostgreSQL error codes, looked up through `cause` chains: drizzle wraps the driver's error, and
 * postgres.js and PGlite both carry the SQLSTATE in `code`.
 */
export function pgErrorCode(error: unknown): string | null {
  for (let x: any = error; x; x = x.cause) {
    if (typeof x.code === "string" && /^[0-9][0-9A-Z]{4}$/.test(x.code)) return x.code;
  }
  return null;
}

export const isUniqueViolation = (error: unknown) => pgErrorCode(error) === "23505";

/*
 * Failures that say "the database cannot be reached right now" rather than "this query is wrong":
 * they answer 503 with Retry-After, never 500, and open the circuit breaker (src/db/breaker.ts).
 * Socket errors from the OS, postgres.js's own connection codes, and the SQLSTATEs of a server
 * that is stopping, starting or full.
 */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ERR_SOCKET_CLOSED",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down, recovering)
  "53300", // too_many_connections
]);

export function isConnectionError(error: unknown): boolean {
  let e: unknown = error;
  for (let i = 0; e && i < 6; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") {
      if (CONNECTION_CODES.has(code)) return true;
      // Class 08: connection exception (08000, 08003, 08006, 08001, 08004, …).
      if (/^08[0-9A-Z]{3}$/.test(code)) return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
