import { createHash, timingSafeEqual } from "node:crypto";
import type { AuthMode, Config } from "@/config";
import { importDevTokenKey, verifyDevToken } from "@/lib/auth/dev-token";
import { createEntraVerifier } from "@/lib/auth/entra";
import { MAX_TOKEN_LENGTH, tokenError, unauthenticatedError } from "@/lib/auth/errors";

/*
 * Token verification by AUTH_MODE (decisions.md "Identity and access"). Development accepts the
 * dev mock token and HS256 dev JWTs; production accepts Entra ID access tokens only, so a leaked
 * SECRET_KEY or mock token can never open a production deployment.
 */

export type IdentityKind = "dev-mock" | "dev-jwt" | "entra";

export type VerifiedIdentity = {
  kind: IdentityKind;
  oid: string | null;
  email: string;
  name: string | null;
  sid: string | null;
  iat: number | null;
  exp: number | null;
};

export type TokenVerifier = {
  readonly mode: AuthMode;
  /* Throws AppError: 401 TOKEN_INVALID / TOKEN_EXPIRED, 403 INSUFFICIENT_SCOPE, 503 when the IdP keys are unreachable. */
  verify(token: string): Promise<VerifiedIdentity>;
  /* The identity of a token verified moments ago (no work, no await); undefined otherwise. */
  peek?(token: string): VerifiedIdentity | undefined;
};

export type TokenVerifierOptions = {
  /* How long a verified token is remembered (default 60 s, never past its `exp`); 0 turns it off. */
  memoTtlMs?: number;
  memoMaxEntries?: number;
  now?: () => number;
  fetchImpl?: typeof fetch;
  /* Minimum interval between JWKS fetches (default 30 s); tests shorten it. */
  jwksRefreshCooldownMs?: number;
  jwksFetchTimeoutMs?: number;
};

/* Hashing first gives equal-length inputs, so the comparison time says nothing about the secret. */
function constantTimeEquals(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(ha, hb);
}

/** The token of an `Authorization: Bearer <token>` header; 401 UNAUTHENTICATED otherwise. */
const WHITESPACE = /\s/;

export function parseBearer(headerValue: string | null | undefined): string {
  // The common well-formed header, read without splitting it (every authenticated request, twice).
  if (
    headerValue?.startsWith("Bearer ") &&
    headerValue.length > 7 &&
    !WHITESPACE.test(headerValue.slice(7))
  ) {
    return headerValue.slice(7);
  }
  if (headerValue === null || headerValue === undefined || headerValue.trim() === "") {
    throw unauthenticatedError("Authentication is required.");
  }
  const [scheme, ...rest] = headerValue.trim().split(/\s+/);
  if (scheme.toLowerCase() !== "bearer") {
    throw unauthenticatedError("The Authorization header must use the Bearer scheme.");
  }
  if (rest.length !== 1) throw unauthenticatedError("The Authorization header must be 'Bearer <token>'.");
  return rest[0];
}

/*
 * A signature check (HMAC, or RSA against the IdP's keys) on every request of the same client is
 * the single largest cost of an authenticated read; a token verified moments ago is remembered
 * instead, for at most `ttlMs` and never past its own expiry. Only successes are remembered, and
 * revocation does not depend on this (sessions and accounts are checked on every request).
 */
export function memoiseVerifier(
  verify: (token: string) => Promise<VerifiedIdentity>,
  options: {
    ttlMs?: number;
    maxEntries?: number;
    now?: () => number;
    /* A remembered verification counts only while this value is unchanged (e.g. the signing key set). */
    epoch?: () => number;
  } = {},
): ((token: string) => Promise<VerifiedIdentity>) & { peek(token: string): VerifiedIdentity | undefined } {
  const ttlMs = options.ttlMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const epoch = options.epoch ?? (() => 0);
  if (ttlMs <= 0) return Object.assign((token: string) => verify(token), { peek: () => undefined });
  const memo = new Map<string, { identity: VerifiedIdentity; until: number; epoch: number }>();
  const peek = (token: string): VerifiedIdentity | undefined => {
    const hit = memo.get(token);
    return hit && hit.until > now() && hit.epoch === epoch() ? hit.identity : undefined;
  };
  const remembered = async (token: string): Promise<VerifiedIdentity> => {
    const t = now();
    const hit = memo.get(token);
    if (hit) {
      if (hit.until > t && hit.epoch === epoch()) return hit.identity;
      memo.delete(token);
    }
    const e = epoch();
    const identity = Object.freeze(await verify(token));
    const until = Math.min(t + ttlMs, identity.exp === null ? Number.POSITIVE_INFINITY : identity.exp * 1000);
    if (until > t) {
      // Oldest first: Map iteration is insertion order.
      if (memo.size >= maxEntries) memo.delete(memo.keys().next().value as string);
      memo.set(token, { identity, until, epoch: e });
    }
    return identity;
  };
  return Object.assign(remembered, { peek });
}

export function createTokenVerifier(config: Config, options: TokenVerifierOptions = {}): TokenVerifier {
  const memo = { ttlMs: options.memoTtlMs, maxEntries: options.memoMaxEntries, now: options.now };
  if (config.authMode === "production") {
    if (!config.azureTenantId || !config.azureClientId) {
      throw new Error("AUTH_MODE=production needs AZURE_TENANT_ID and AZURE_CLIENT_ID");
    }
    const entra = createEntraVerifier({
      tenantId: config.azureTenantId,
      clientId: config.azureClientId,
      requiredScope: config.authRequiredScope,
      jwksUrl: config.azureJwksUrl,
      fetchImpl: options.fetchImpl,
      refreshCooldownMs: options.jwksRefreshCooldownMs,
      fetchTimeoutMs: options.jwksFetchTimeoutMs,
    });
    return {
      mode: "production",
      verify: memoiseVerifier(
        async (token) => {
          const claims = await entra.verify(token);
          return { kind: "entra", ...claims };
        },
        { ...memo, epoch: () => entra.keySetVersion },
      ),
    };
  }

  const { devMockToken, devMockUserEmail, secretKey } = config;
  let key: Promise<CryptoKey> | null = null;
  const verifyJwt = memoiseVerifier(async (token) => {
    key ??= importDevTokenKey(secretKey);
    const claims = await verifyDevToken(token, await key);
    return { kind: "dev-jwt", ...claims };
  }, memo);
  const devMock = (): VerifiedIdentity => ({
    kind: "dev-mock",
    oid: null,
    email: devMockUserEmail,
    name: null,
    sid: null,
    iat: null,
    exp: null,
  });
  return {
    mode: "development",
    peek(token) {
      if (token.length > MAX_TOKEN_LENGTH) return undefined;
      if (devMockToken !== null && constantTimeEquals(token, devMockToken)) return devMock();
      return verifyJwt.peek(token);
    },
    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) throw tokenError("TOKEN_INVALID", "The token is too large.");
      if (devMockToken !== null && constantTimeEquals(token, devMockToken)) return devMock();
      if (token.split(".").length !== 3)
        throw tokenError("TOKEN_INVALID", "The development token is not valid.");
      return verifyJwt(token);
    },
  };
}

export { type DevTokenClaims, type DevTokenInput, signDevToken, verifyDevToken } from "@/lib/auth/dev-token";
export { createEntraVerifier, type EntraClaims, type EntraVerifier } from "@/lib/auth/entra";
