import type { Config } from "@/config";

/*
 * Headers of api.md §4.1 stage 2. They are computed once per request and applied to successes
 * and errors alike (the error mapper calls `responseHeaders` too).
 */

const BASE: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
  "Cross-Origin-Resource-Policy": "same-site",
};
const STRICT_CSP = "default-src 'none'; frame-ancestors 'none'";
// Swagger UI (src/plugins/swagger-ui.ts) is served from the service itself with no inline script
// or style: scripts, styles and the spec fetch are 'self'; its CSS draws icons from data: URIs.
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const CORS_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
export const CORS_ALLOW_HEADERS = "Authorization, Content-Type, Accept, X-Request-ID, If-None-Match";
export const CORS_EXPOSE_HEADERS =
  "X-Request-ID, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, Content-Disposition, ETag, Location";

export function createHeaderPolicy(config: Config) {
  const hsts = config.environment !== "development";
  const origins = new Set(config.allowedOrigins);

  // Built once: this runs on every request, successes and errors alike.
  const build = (csp: string): Readonly<Record<string, string>> =>
    Object.freeze({
      ...BASE,
      "Content-Security-Policy": csp,
      ...(hsts ? { "Strict-Transport-Security": "max-age=31536000; includeSubDomains" } : {}),
    });
  const apiHeaders = build(STRICT_CSP);
  const docsHeaders = build(DOCS_CSP);
  const isDocs = (path: string) => path === "/docs" || path.startsWith("/docs/");

  function securityHeaders(path: string): Readonly<Record<string, string>> {
    return isDocs(path) ? docsHeaders : apiHeaders;
  }

  /*
   * The fixed part of every JSON answer, as a `Headers` built once. A response made from it copies
   * it natively, several times cheaper than from a plain object, whose every name Bun validates
   * and lower-cases again; the per-request headers are then set on the response's own copy.
   */
  const jsonBase = (fixed: Readonly<Record<string, string>>) =>
    new Headers({
      ...fixed,
      "Cache-Control": "no-store",
      "Content-Type": "application/json;charset=utf-8",
    });
  const apiJson = jsonBase(apiHeaders);
  const docsJson = jsonBase(docsHeaders);

  /** A 200 JSON response with the security headers, `Cache-Control` and the JSON type. */
  function jsonResponse(path: string, body: string): Response {
    return new Response(body, { status: 200, headers: isDocs(path) ? docsJson : apiJson });
  }

  /* A disallowed origin gets no CORS headers at all; that is not an error (api.md §4.1). */
  function corsHeaders(origin: string | null): Record<string, string> {
    if (!origin || !origins.has(origin)) return {};
    return {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
      Vary: "Origin",
    };
  }

  function preflightHeaders(origin: string | null): Record<string, string> | null {
    if (!origin || !origins.has(origin)) return null;
    return {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Methods": CORS_ALLOW_METHODS,
      "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
      "Access-Control-Max-Age": "600",
      Vary: "Origin",
    };
  }

  return { securityHeaders, jsonResponse, corsHeaders, preflightHeaders };
}

export type HeaderPolicy = ReturnType<typeof createHeaderPolicy>;
