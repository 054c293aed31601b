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
