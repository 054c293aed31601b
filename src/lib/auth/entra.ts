import { decodeProtectedHeader, importJWK, type JWK, jwtVerify } from "jose";
import {
  fromJoseError,
  insufficientScopeError,
  keysUnavailableError,
  MAX_TOKEN_LENGTH,
  tokenError,
} from "@/lib/auth/errors";

/*
 * Microsoft Entra ID access tokens (decisions.md "Identity and access"). The key set is managed
 * here rather than with jose's createRemoteJWKSet so the refresh policy is explicit: an unknown
 * `kid` causes at most one refresh, and refreshes never happen more often than the cooldown, so a
 * flood of forged key ids cannot turn the server into a JWKS amplifier.
 */

export const ENTRA_ALGORITHM = "RS256";
const CLOCK_SKEW_S = 60;

export type EntraVerifierOptions = {
  tenantId: string;
  clientId: string;
  /* Scope that must appear in `scp`, e.g. `access_as_user`. */
  requiredScope: string;
  /* Defaults to the tenant's v2 discovery keys. */
  jwksUrl?: string | null;
  fetchImpl?: typeof fetch;
  /* Minimum time between two JWKS fetches, whatever triggers them. */
  refreshCooldownMs?: number;
  /* Keys older than this are refreshed on the next verification (subject to the cooldown). */
  cacheMaxAgeMs?: number;
  fetchTimeoutMs?: number;
};

export type EntraClaims = {
  oid: string;
  email: string;
  name: string | null;
  sid: string | null;
  iat: number | null;
  exp: number;
};

export type EntraVerifier = {
  verify(token: string): Promise<EntraClaims>;
  /* How many JWKS fetches were started; for tests and diagnostics. */
  readonly jwksFetches: number;
  /* Changes whenever a fetched key set replaces the previous one (a remembered verification is void then). */
  readonly keySetVersion: number;
};

export const defaultJwksUrl = (tenantId: string) =>
  `https://login.microsoftonline.com/${encodeURIComponent(tenantId)}/discovery/v2.0/keys`;

export const entraIssuers = (tenantId: string): string[] => [
  `https://sts.windows.net/${tenantId}/`,
  `https://login.microsoftonline.com/${tenantId}/v2.0`,
];

export const entraAudiences = (clientId: string): string[] => [clientId, `api://${clientId}`];

type KeyLookup = { key: CryptoKey | null; fetchFailed: boolean; fetchError?: unknown };

class JwksCache {
  private keys = new Map<string, CryptoKey>();
  private loadedAt = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastFetchOk = false;
  private lastError: unknown;
  private inFlight: Promise<void> | null = null;
  fetches = 0;
  version = 0;

  constructor(
    private readonly url: string,
    private readonly fetchImpl: typeof fetch,
    private readonly cooldownMs: number,
    private readonly maxAgeMs: number,
    private readonly timeoutMs: number,
  ) {}

  /* Joins a running refresh, or starts one when the cooldown allows; false when neither. */
  private async refreshIfAllowed(): Promise<boolean> {
    if (this.inFlight) {
      await this.inFlight;
      return true;
    }
    if (Date.now() - this.lastAttemptAt < this.cooldownMs) return false;
    this.lastAttemptAt = Date.now();
    this.inFlight = this.load().finally(() => {
      this.inFlight = null;
    });
    await this.inFlight;
    return true;
  }

  private async load(): Promise<void> {
    this.fetches++;
    try {
      const res = await this.fetchImpl(this.url, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!res.ok) throw new Error(`JWKS endpoint answered ${res.status}`);
      const body = (await res.json()) as { keys?: unknown };
      if (!body || !Array.isArray(body.keys)) throw new Error("JWKS response has no 'keys' array");
      const next = new Map<string, CryptoKey>();
      for (const jwk of body.keys as JWK[]) {
        if (jwk?.kty !== "RSA" || typeof jwk.kid !== "string") continue;
        if (jwk.use !== undefined && jwk.use !== "sig") continue;
        if (jwk.alg !== undefined && jwk.alg !== ENTRA_ALGORITHM) continue;
        try {
          next.set(
            jwk.kid,
            (await importJWK({ ...jwk, alg: ENTRA_ALGORITHM }, ENTRA_ALGORITHM)) as CryptoKey,
          );
        } catch {
          /* One malformed key must not hide the others. */
        }
      }
      this.keys = next;
      this.version++;
      this.loadedAt = Date.now();
      this.lastFetchOk = true;
      this.lastError = undefined;
    } catch (error) {
      // Old keys stay usable: an IdP hiccup should not log everybody out.
      this.lastFetchOk = false;
      this.lastError = error;
    }
  }

  async keyFor(kid: string): Promise<KeyLookup> {
    if (this.loadedAt > 0 && Date.now() - this.loadedAt > this.maxAgeMs) await this.refreshIfAllowed();
    const cached = this.keys.get(kid);
    if (cached) return { key: cached, fetchFailed: false };
    await this.refreshIfAllowed();
    const key = this.keys.get(kid) ?? null;
    return { key, fetchFailed: key === null && !this.lastFetchOk, fetchError: this.lastError };
  }
}

export function createEntraVerifier(options: EntraVerifierOptions): EntraVerifier {
  const { tenantId, clientId, requiredScope } = options;
  const jwks = new JwksCache(
    options.jwksUrl ?? defaultJwksUrl(tenantId),
    options.fetchImpl ?? fetch,
    options.refreshCooldownMs ?? 30_000,
    options.cacheMaxAgeMs ?? 3_600_000,
    options.fetchTimeoutMs ?? 5_000,
  );
  const issuers = entraIssuers(tenantId);
  const audiences = entraAudiences(clientId);

  async function verify(token: string): Promise<EntraClaims> {
    if (token.length > MAX_TOKEN_LENGTH) throw tokenError("TOKEN_INVALID", "The token is too large.");
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch (error) {
      throw tokenError("TOKEN_INVALID", "The token is malformed.", error);
    }
    // Checked before any key lookup so `none`/HS256 tokens never reach the JWKS endpoint.
    if (header.alg !== ENTRA_ALGORITHM)
      throw tokenError("TOKEN_INVALID", "The token algorithm is not accepted.");
    if (typeof header.kid !== "string" || header.kid === "") {
      throw tokenError("TOKEN_INVALID", "The token names no signing key.");
    }
    const { key, fetchFailed, fetchError } = await jwks.keyFor(header.kid);
    if (!key) {
      if (fetchFailed) throw keysUnavailableError(fetchError);
      throw tokenError("TOKEN_INVALID", "The token's signing key is unknown.");
    }

    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [ENTRA_ALGORITHM],
        issuer: issuers,
        audience: audiences,
        clockTolerance: CLOCK_SKEW_S,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      throw fromJoseError(error);
    }

    if (payload.tid !== undefined && payload.tid !== tenantId) {
      throw tokenError("TOKEN_INVALID", "The token belongs to another tenant.");
    }
    const scopes = typeof payload.scp === "string" ? payload.scp.split(" ").filter(Boolean) : [];
    if (!scopes.includes(requiredScope)) throw insufficientScopeError(requiredScope);

    const str = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : null);
    const oid = str(payload.oid);
    if (!oid) throw tokenError("TOKEN_INVALID", "The token has no 'oid' claim.");
    const email = str(payload.email) ?? str(payload.preferred_username) ?? str(payload.upn);
    if (!email) throw tokenError("TOKEN_INVALID", "The token has no email, preferred_username or upn claim.");
    return {
      oid,
      email,
      name: str(payload.name),
      sid: str(payload.sid),
      iat: typeof payload.iat === "number" ? payload.iat : null,
      exp: payload.exp as number,
    };
  }

  return {
    verify,
    get jwksFetches() {
      return jwks.fetches;
    },
    get keySetVersion() {
      return jwks.version;
    },
  };
}
