import { errors as joseErrors } from "jose";
import { AppError, problem } from "@/lib/errors";

/*
 * The auth failures of api.md §1.1/§1.7 with their RFC 6750 `WWW-Authenticate` challenges. Kept
 * apart from index.ts so the dev and Entra verifiers can raise them without an import cycle.
 */

export const AUTH_REALM = "camp-backend";

/* A quoted-string may not carry `"` or `\`; header values stay printable ASCII. */
function quoted(value: string): string {
  return value.replace(/[\\"]/g, "'").replace(/[^\x20-\x7e]/g, " ");
}

export function unauthenticatedError(detail: string): AppError {
  return problem("UNAUTHENTICATED", {
    detail,
    headers: { "WWW-Authenticate": `Bearer realm="${AUTH_REALM}"` },
  });
}

export function tokenError(
  code: "TOKEN_INVALID" | "TOKEN_EXPIRED",
  detail: string,
  cause?: unknown,
): AppError {
  return problem(code, {
    detail,
    cause,
    headers: {
      "WWW-Authenticate": `Bearer realm="${AUTH_REALM}", error="invalid_token", error_description="${quoted(detail)}"`,
    },
  });
}

export function insufficientScopeError(scope: string): AppError {
  return problem("INSUFFICIENT_SCOPE", {
    detail: `The token lacks the required scope '${scope}'.`,
    headers: {
      "WWW-Authenticate": `Bearer realm="${AUTH_REALM}", error="insufficient_scope", scope="${quoted(scope)}"`,
    },
  });
}

/* Identity-provider keys unreachable: the token may be fine, so a 401 would send users in circles. */
export function keysUnavailableError(cause?: unknown): AppError {
  return problem("DEPENDENCY_UNAVAILABLE", {
    detail: "The identity provider's signing keys could not be loaded.",
    cause,
    headers: { "Retry-After": "30" },
  });
}

/* Bearer tokens larger than this are refused before any parsing (Entra access tokens are ~2–4 KB). */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/* Translates a jose verification failure into the problem code the client can act on. */
export function fromJoseError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof joseErrors.JWTExpired)
    return tokenError("TOKEN_EXPIRED", "The token has expired.", error);
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "nbf":
        return tokenError("TOKEN_EXPIRED", "The token is not valid yet.", error);
      case "iss":
        return tokenError("TOKEN_INVALID", "The token issuer is not accepted.", error);
      case "aud":
        return tokenError("TOKEN_INVALID", "The token audience is not accepted.", error);
      default:
        return tokenError("TOKEN_INVALID", `The token claim '${error.claim}' is invalid.`, error);
    }
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return tokenError("TOKEN_INVALID", "The token algorithm is not accepted.", error);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return tokenError("TOKEN_INVALID", "The token signature is invalid.", error);
  }
  return tokenError("TOKEN_INVALID", "The token is malformed.", error);
}
