import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from "jose";

/*
 * A real JWKS endpoint on 127.0.0.1 standing in for Entra ID: RSA keys generated per server,
 * requests counted, keys rotatable, and an outage switch. `signEntraToken` mints access tokens
 * with whatever claims, key id or algorithm a test needs.
 */

export type TestKey = {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: Record<string, unknown>;
};

export type JwksServer = {
  url: string;
  readonly requests: number;
  /* The key tokens are signed with by default. */
  readonly current: TestKey;
  /* Keys currently published. */
  readonly published: TestKey[];
  /* Publishes a new key (and, unless `keepOld`, withdraws the others); the new key becomes current. */
  rotate(options?: { keepOld?: boolean }): Promise<TestKey>;
  /* A key that is never published (for "unknown kid" and forged-signature cases). */
  unpublishedKey(): Promise<TestKey>;
  setFailing(failing: boolean): void;
  stop(): Promise<void>;
};

export async function generateTestKey(kid = `kid-${crypto.randomUUID()}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { kid, privateKey, publicKey, publicJwk: { ...jwk, kid, use: "sig", alg: "RS256" } };
}

export async function startJwksServer(): Promise<JwksServer> {
  let keys: TestKey[] = [await generateTestKey()];
  let requests = 0;
  let failing = false;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      requests++;
      if (failing) return new Response("unavailable", { status: 503 });
      return Response.json({ keys: keys.map((k) => k.publicJwk) });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/discovery/v2.0/keys`,
    get requests() {
      return requests;
    },
    get current() {
      return keys[keys.length - 1];
    },
    get published() {
      return [...keys];
    },
    async rotate(options = {}) {
      const key = await generateTestKey();
      keys = options.keepOld ? [...keys, key] : [key];
      return key;
    },
    unpublishedKey: () => generateTestKey(),
    setFailing(value) {
      failing = value;
    },
    async stop() {
      await server.stop(true);
    },
  };
}

export type EntraTokenOptions = {
  tenantId: string;
  clientId: string;
  key: TestKey;
  /* "v1" / "v2" pick the tenant's issuer; any other string is used as is. */
  issuer?: "v1" | "v2" | (string & {});
  audience?: string;
  scp?: string | null;
  /* Seconds relative to now. */
  expiresInS?: number;
  notBeforeInS?: number;
  kid?: string | null;
  /* Extra or overriding claims; `undefined` removes a claim. */
  claims?: Record<string, unknown>;
};

export function entraIssuer(tenantId: string, version: "v1" | "v2"): string {
  return version === "v1"
    ? `https://sts.windows.net/${tenantId}/`
    : `https://login.microsoftonline.com/${tenantId}/v2.0`;
}

export function entraPayload(options: Omit<EntraTokenOptions, "key" | "kid">): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const issuer: string = options.issuer ?? "v2";
  const payload: Record<string, unknown> = {
    iss: issuer === "v1" || issuer === "v2" ? entraIssuer(options.tenantId, issuer) : issuer,
    aud: options.audience ?? options.clientId,
    tid: options.tenantId,
    oid: crypto.randomUUID(),
    preferred_username: "alice@contoso.example",
    name: "Alice Example",
    iat: now - 10,
    nbf: now + (options.notBeforeInS ?? -10),
    exp: now + (options.expiresInS ?? 3600),
    ver: issuer === "v1" ? "1.0" : "2.0",
  };
  if (options.scp !== null) payload.scp = options.scp ?? "access_as_user";
  for (const [k, v] of Object.entries(options.claims ?? {})) {
    if (v === undefined) delete payload[k];
    else payload[k] = v;
  }
  return payload as JWTPayload;
}

export function signEntraToken(options: EntraTokenOptions): Promise<string> {
  const kid = options.kid === undefined ? options.key.kid : options.kid;
  const header: { alg: string; typ: string; kid?: string } = { alg: "RS256", typ: "JWT" };
  if (kid !== null) header.kid = kid;
  return new SignJWT(entraPayload(options)).setProtectedHeader(header).sign(options.key.privateKey);
}

const b64url = (value: string | Uint8Array) => Buffer.from(value).toString("base64url");

/* `alg: none` — an unsigned token with an empty signature part. */
export function unsignedToken(payload: JWTPayload, kid: string): string {
  return `${b64url(JSON.stringify({ alg: "none", typ: "JWT", kid }))}.${b64url(JSON.stringify(payload))}.`;
}

/* The classic key-confusion attack: HS256 with the RSA public key's text as the HMAC secret. */
export async function hs256WithPublicKey(payload: JWTPayload, key: TestKey): Promise<string> {
  const pem = await exportSPKI(key.publicKey);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: key.kid })
    .sign(new TextEncoder().encode(pem));
}

/* Same header and signature, different payload: the signature no longer matches. */
export function tamperPayload(token: string, change: Record<string, unknown>): string {
  const [h, p, s] = token.split(".");
  const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  return `${h}.${b64url(JSON.stringify({ ...payload, ...change }))}.${s}`;
}
