import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { type Config, configFrom } from "@/config";
import { createTokenVerifier, memoiseVerifier, parseBearer, type VerifiedIdentity } from "@/lib/auth";
import { devOidForEmail, signDevToken, verifyDevToken } from "@/lib/auth/dev-token";
import { AppError } from "@/lib/errors";
import type { ProblemCode } from "@/lib/problems";
import {
  entraPayload,
  hs256WithPublicKey,
  type JwksServer,
  signEntraToken,
  startJwksServer,
  tamperPayload,
  unsignedToken,
} from "./helpers/jwks-server";

const TENANT = "7c1e1f2a-3b4c-4d5e-8f60-718293a4b5c6";
const OTHER_TENANT = "0f0e0d0c-0b0a-4909-8807-060504030201";
const CLIENT = "d3b07384-d9a0-4c9b-8f1e-2a3b4c5d6e7f";
const STRONG_SECRET = randomBytes(48).toString("base64");
const MOCK_TOKEN = "mock-access-token-dev-12345";

function productionConfig(
  jwksUrl: string,
  extra: Record<string, string> = {},
  environment: "staging" | "production" = "staging",
): Config {
  return configFrom({
    ENVIRONMENT: environment,
    AUTH_MODE: "production",
    SECRET_KEY: STRONG_SECRET,
    ALLOWED_ORIGINS: "https://app.example.com",
    DATABASE_URL: "postgresql://camp:camp@127.0.0.1:5432/camp",
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: CLIENT,
    AZURE_JWKS_URL: jwksUrl,
    LOG_LEVEL: "silent",
    ...extra,
  });
}

const devConfig = (extra: Record<string, string> = {}) =>
  configFrom({ ENVIRONMENT: "development", SECRET_KEY: STRONG_SECRET, LOG_LEVEL: "silent", ...extra });

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected the promise to reject");
}

async function expectProblem(
  promise: Promise<unknown>,
  status: number,
  code: ProblemCode,
): Promise<AppError> {
  const error = await rejection(promise);
  expect({ status: error.status, code: error.code }).toEqual({ status, code });
  return error;
}

function expectInvalidTokenHeader(error: AppError): void {
  expect(error.headers["WWW-Authenticate"]).toStartWith(
    'Bearer realm="camp-backend", error="invalid_token", error_description="',
  );
}

describe("Entra ID access tokens (AUTH_MODE=production)", () => {
  let jwks: JwksServer;
  let config: Config;
  const base = () => ({ tenantId: TENANT, clientId: CLIENT, key: jwks.current });

  beforeAll(async () => {
    jwks = await startJwksServer();
    config = productionConfig(jwks.url);
  });
  afterAll(() => jwks.stop());

  test.each([
    ["v1", CLIENT],
    ["v1", `api://${CLIENT}`],
    ["v2", CLIENT],
    ["v2", `api://${CLIENT}`],
  ] as const)("accepts a %s-issuer token for audience %s", async (issuer, audience) => {
    const verifier = createTokenVerifier(config);
    const oid = crypto.randomUUID();
    const token = await signEntraToken({ ...base(), issuer, audience, claims: { oid } });
    const identity = await verifier.verify(token);
    expect(identity).toMatchObject({
      kind: "entra",
      oid,
      email: "alice@contoso.example",
      name: "Alice Example",
      sid: null,
    });
    expect(identity.exp).toBeGreaterThan(Date.now() / 1000);
    expect(identity.iat).toBeNumber();
  });

  test("email comes from email, else preferred_username, else upn; sid is passed through", async () => {
    const verifier = createTokenVerifier(config);
    const withEmail = await signEntraToken({
      ...base(),
      claims: { email: "a@x.example", preferred_username: "b@x.example", upn: "c@x.example", sid: "s-1" },
    });
    expect(await verifier.verify(withEmail)).toMatchObject({ email: "a@x.example", sid: "s-1" });
    const upnOnly = await signEntraToken({
      ...base(),
      issuer: "v1",
      claims: { preferred_username: undefined, upn: "c@x.example" },
    });
    expect((await verifier.verify(upnOnly)).email).toBe("c@x.example");
  });

  test("HS256 signed with the public key is refused without touching the JWKS endpoint", async () => {
    const fresh = await startJwksServer();
    try {
      const verifier = createTokenVerifier(productionConfig(fresh.url));
      const token = await hs256WithPublicKey(
        entraPayload({ tenantId: TENANT, clientId: CLIENT }),
        fresh.current,
      );
      const error = await expectProblem(verifier.verify(token), 401, "TOKEN_INVALID");
      expectInvalidTokenHeader(error);
      expect(fresh.requests).toBe(0);
    } finally {
      await fresh.stop();
    }
  });

  test("alg none is refused", async () => {
    const verifier = createTokenVerifier(config);
    const token = unsignedToken(entraPayload({ tenantId: TENANT, clientId: CLIENT }), jwks.current.kid);
    expectInvalidTokenHeader(await expectProblem(verifier.verify(token), 401, "TOKEN_INVALID"));
  });

  test("a bad signature is refused", async () => {
    const verifier = createTokenVerifier(config);
    const good = await signEntraToken(base());
    const tampered = tamperPayload(good, { preferred_username: "mallory@contoso.example" });
    const error = await expectProblem(verifier.verify(tampered), 401, "TOKEN_INVALID");
    expect(error.message).toContain("signature");
    // Signed by a foreign key that claims a published kid.
    const foreign = await jwks.unpublishedKey();
    const forged = await signEntraToken({ ...base(), key: foreign, kid: jwks.current.kid });
    await expectProblem(verifier.verify(forged), 401, "TOKEN_INVALID");
  });

  test("expiry: beyond the 60 s skew → TOKEN_EXPIRED, within it → accepted", async () => {
    const verifier = createTokenVerifier(config);
    const expired = await signEntraToken({ ...base(), expiresInS: -120 });
    const error = await expectProblem(verifier.verify(expired), 401, "TOKEN_EXPIRED");
    expect(error.headers["WWW-Authenticate"]).toBe(
      'Bearer realm="camp-backend", error="invalid_token", error_description="The token has expired."',
    );
    const justExpired = await signEntraToken({ ...base(), expiresInS: -30 });
    expect((await verifier.verify(justExpired)).kind).toBe("entra");
  });

  test("nbf in the future → TOKEN_EXPIRED (within the skew → accepted)", async () => {
    const verifier = createTokenVerifier(config);
    const early = await signEntraToken({ ...base(), notBeforeInS: 300 });
    expectInvalidTokenHeader(await expectProblem(verifier.verify(early), 401, "TOKEN_EXPIRED"));
    const slightlyEarly = await signEntraToken({ ...base(), notBeforeInS: 30 });
    expect((await verifier.verify(slightlyEarly)).kind).toBe("entra");
  });

  test("wrong audience, wrong issuer and another tenant are refused", async () => {
    const verifier = createTokenVerifier(config);
    const cases = [
      await signEntraToken({ ...base(), audience: "00000003-0000-0000-c000-000000000000" }),
      await signEntraToken({ ...base(), audience: `api://${CLIENT}/other` }),
      await signEntraToken({ ...base(), issuer: "https://evil.example/v2.0" }),
      await signEntraToken({ ...base(), issuer: `https://login.microsoftonline.com/${TENANT}/` }),
      await signEntraToken({ ...base(), issuer: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0` }),
      await signEntraToken({ ...base(), issuer: `https://sts.windows.net/${OTHER_TENANT}/` }),
      // Right issuer, but the tenant id claim disagrees.
      await signEntraToken({ ...base(), claims: { tid: OTHER_TENANT } }),
    ];
    for (const token of cases) {
      expectInvalidTokenHeader(await expectProblem(verifier.verify(token), 401, "TOKEN_INVALID"));
    }
  });

  test("missing scope → 403 INSUFFICIENT_SCOPE with the insufficient_scope challenge", async () => {
    const verifier = createTokenVerifier(config);
    for (const scp of [null, "User.Read", "access_as_user_x", ""]) {
      const token = await signEntraToken({ ...base(), scp });
      const error = await expectProblem(verifier.verify(token), 403, "INSUFFICIENT_SCOPE");
      expect(error.headers["WWW-Authenticate"]).toBe(
        'Bearer realm="camp-backend", error="insufficient_scope", scope="access_as_user"',
      );
    }
    const several = await signEntraToken({ ...base(), scp: "User.Read access_as_user openid" });
    expect((await verifier.verify(several)).kind).toBe("entra");
  });

  test("the required scope is configurable", async () => {
    const verifier = createTokenVerifier(productionConfig(jwks.url, { AUTH_REQUIRED_SCOPE: "camp.use" }));
    const error = await expectProblem(
      verifier.verify(await signEntraToken(base())),
      403,
      "INSUFFICIENT_SCOPE",
    );
    expect(error.headers["WWW-Authenticate"]).toContain('scope="camp.use"');
    expect((await verifier.verify(await signEntraToken({ ...base(), scp: "camp.use" }))).kind).toBe("entra");
  });

  test("no oid, no email-like claim, no kid, garbage → TOKEN_INVALID", async () => {
    const verifier = createTokenVerifier(config);
    const tokens = [
      await signEntraToken({ ...base(), claims: { oid: undefined } }),
      await signEntraToken({ ...base(), claims: { preferred_username: undefined } }),
      await signEntraToken({ ...base(), kid: null }),
      "not-a-jwt",
      "a.b.c",
      "x".repeat(20_000),
    ];
    for (const token of tokens) await expectProblem(verifier.verify(token), 401, "TOKEN_INVALID");
  });

  test("an unknown kid triggers one refresh, after which a rotated key is accepted", async () => {
    const server = await startJwksServer();
    try {
      const verifier = createTokenVerifier(productionConfig(server.url), { jwksRefreshCooldownMs: 0 });
      const first = await signEntraToken({ tenantId: TENANT, clientId: CLIENT, key: server.current });
      await verifier.verify(first);
      expect(server.requests).toBe(1);
      await verifier.verify(first);
      expect(server.requests).toBe(1);

      const rotated = await server.rotate();
      const second = await signEntraToken({ tenantId: TENANT, clientId: CLIENT, key: rotated });
      expect((await verifier.verify(second)).kind).toBe("entra");
      expect(server.requests).toBe(2);

      // A kid that is not published even after the refresh: exactly one more fetch, then refused.
      const stranger = await server.unpublishedKey();
      const unknown = await signEntraToken({ tenantId: TENANT, clientId: CLIENT, key: stranger });
      const error = await expectProblem(verifier.verify(unknown), 401, "TOKEN_INVALID");
      expect(error.message).toContain("signing key is unknown");
      expect(server.requests).toBe(3);

      // The withdrawn key is gone after the refresh.
      await expectProblem(verifier.verify(first), 401, "TOKEN_INVALID");
    } finally {
      await server.stop();
    }
  });

  test("inside the refresh cooldown an unknown kid does not refetch", async () => {
    const server = await startJwksServer();
    try {
      const verifier = createTokenVerifier(productionConfig(server.url));
      await verifier.verify(
        await signEntraToken({ tenantId: TENANT, clientId: CLIENT, key: server.current }),
      );
      const rotated = await server.rotate();
      const token = await signEntraToken({ tenantId: TENANT, clientId: CLIENT, key: rotated });
      await expectProblem(verifier.verify(token), 401, "TOKEN_INVALID");
      expect(server.requests).toBe(1);
    } finally {
      await server.stop();
    }
  });

  test("a flood of 50 tokens with random unknown kids causes at most two JWKS fetches", async () => {
    const server = await startJwksServer();
    try {
      const verifier = createTokenVerifier(productionConfig(server.url));
      const stranger = await server.unpublishedKey();
      const tokens = await Promise.all(
        Array.from({ length: 50 }, () =>
          signEntraToken({ tenantId: TENANT, clientId: CLIENT, key: stranger, kid: crypto.randomUUID() }),
        ),
      );
      const errors = await Promise.all(tokens.map((t) => rejection(verifier.verify(t))));
      expect(errors.every((e) => e.code === "TOKEN_INVALID")).toBe(true);
      const afterCold = server.requests;
      expect(afterCold).toBeGreaterThanOrEqual(1);
      expect(afterCold).toBeLessThanOrEqual(2);
      // A second wave with warm keys stays inside the cooldown.
      await Promise.all(tokens.map((t) => rejection(verifier.verify(t))));
      expect(server.requests).toBe(afterCold);
      // Legitimate tokens still work throughout.
      const ok = await signEntraToken({ tenantId: TENANT, clientId: CLIENT, key: server.current });
      expect((await verifier.verify(ok)).kind).toBe("entra");
    } finally {
      await server.stop();
    }
  });

  test("JWKS unreachable: 503 with no keys, cached keys keep working", async () => {
    const server = await startJwksServer();
    try {
      server.setFailing(true);
      const cold = createTokenVerifier(productionConfig(server.url), { jwksRefreshCooldownMs: 0 });
      const token = await signEntraToken({ tenantId: TENANT, clientId: CLIENT, key: server.current });
      await expectProblem(cold.verify(token), 503, "DEPENDENCY_UNAVAILABLE");

      server.setFailing(false);
      const warm = createTokenVerifier(productionConfig(server.url), { jwksRefreshCooldownMs: 0 });
      await warm.verify(token);
      server.setFailing(true);
      expect((await warm.verify(token)).kind).toBe("entra");
    } finally {
      await server.stop();
    }
  });

  test("production never accepts the dev mock token or an HS256 dev JWT", async () => {
    const server = await startJwksServer();
    try {
      for (const environment of ["staging", "production"] as const) {
        const extra: Record<string, string> = environment === "staging" ? { DEV_MOCK_TOKEN: MOCK_TOKEN } : {};
        const prod = productionConfig(server.url, extra, environment);
        expect(prod.authMode).toBe("production");
        const verifier = createTokenVerifier(prod);
        expect(verifier.mode).toBe("production");
        expectInvalidTokenHeader(await expectProblem(verifier.verify(MOCK_TOKEN), 401, "TOKEN_INVALID"));
        const devJwt = await signDevToken({ secretKey: prod.secretKey, email: "dev@example.com" });
        expectInvalidTokenHeader(await expectProblem(verifier.verify(devJwt), 401, "TOKEN_INVALID"));
      }
      // Neither token type ever made the verifier consult the key set.
      expect(server.requests).toBe(0);
    } finally {
      await server.stop();
    }
  });
});

describe("development tokens (AUTH_MODE=development)", () => {
  test("the dev mock token is the configured dev user", async () => {
    const verifier = createTokenVerifier(devConfig({ DEV_MOCK_USER_EMAIL: "boss@example.com" }));
    expect(verifier.mode).toBe("development");
    expect(await verifier.verify(MOCK_TOKEN)).toEqual({
      kind: "dev-mock",
      oid: null,
      email: "boss@example.com",
      name: null,
      sid: null,
      iat: null,
      exp: null,
    });
    for (const near of [`${MOCK_TOKEN}x`, MOCK_TOKEN.slice(0, -1), MOCK_TOKEN.toUpperCase()]) {
      await expectProblem(verifier.verify(near), 401, "TOKEN_INVALID");
    }
  });

  test("HS256 dev JWTs carry their claims; the same email is the same oid", async () => {
    const verifier = createTokenVerifier(devConfig());
    const token = await signDevToken({
      secretKey: STRONG_SECRET,
      email: "Carol@Example.com",
      name: "Carol",
      sid: "sess-9",
    });
    const identity = await verifier.verify(token);
    expect(identity).toMatchObject({
      kind: "dev-jwt",
      email: "Carol@Example.com",
      name: "Carol",
      sid: "sess-9",
    });
    expect(identity.oid).toBe(devOidForEmail("carol@example.com"));
    expect(identity.oid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(identity.exp! - identity.iat!).toBe(3600);

    const again = await verifier.verify(
      await signDevToken({ secretKey: STRONG_SECRET, email: "carol@example.com" }),
    );
    expect(again.oid).toBe(identity.oid);
    expect(again.name).toBeNull();
    expect(devOidForEmail("dave@example.com")).not.toBe(identity.oid);

    const explicit = crypto.randomUUID();
    const withOid = await signDevToken({ secretKey: STRONG_SECRET, email: "x@example.com", oid: explicit });
    expect((await verifier.verify(withOid)).oid).toBe(explicit);
  });

  test("dev JWT failures: wrong secret, expiry, issuer, algorithm", async () => {
    const verifier = createTokenVerifier(devConfig());
    const wrongSecret = await signDevToken({
      secretKey: "another-secret-key-of-decent-length-0123456789",
      email: "e@x.io",
    });
    expectInvalidTokenHeader(await expectProblem(verifier.verify(wrongSecret), 401, "TOKEN_INVALID"));

    const expired = await signDevToken({ secretKey: STRONG_SECRET, email: "e@x.io", expiresInS: -120 });
    expectInvalidTokenHeader(await expectProblem(verifier.verify(expired), 401, "TOKEN_EXPIRED"));
    const withinSkew = await signDevToken({ secretKey: STRONG_SECRET, email: "e@x.io", expiresInS: -30 });
    expect((await verifier.verify(withinSkew)).kind).toBe("dev-jwt");

    const key = new TextEncoder().encode(STRONG_SECRET);
    const otherIssuer = await new SignJWT({ oid: crypto.randomUUID(), email: "e@x.io" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("someone-else")
      .setExpirationTime("1h")
      .sign(key);
    await expectProblem(verifier.verify(otherIssuer), 401, "TOKEN_INVALID");
    const hs512 = await new SignJWT({ oid: crypto.randomUUID(), email: "e@x.io" })
      .setProtectedHeader({ alg: "HS512" })
      .setIssuer("camp-backend-dev")
      .setExpirationTime("1h")
      .sign(key);
    await expectProblem(verifier.verify(hs512), 401, "TOKEN_INVALID");
    const noEmail = await new SignJWT({ oid: crypto.randomUUID() })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("camp-backend-dev")
      .setExpirationTime("1h")
      .sign(key);
    await expectProblem(verifier.verify(noEmail), 401, "TOKEN_INVALID");
    const noExp = await new SignJWT({ oid: crypto.randomUUID(), email: "e@x.io" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("camp-backend-dev")
      .sign(key);
    await expectProblem(verifier.verify(noExp), 401, "TOKEN_INVALID");
    const none = unsignedToken(
      { iss: "camp-backend-dev", oid: "o", email: "e@x.io", exp: 9_999_999_999 },
      "k",
    );
    await expectProblem(verifier.verify(none), 401, "TOKEN_INVALID");
    await expectProblem(verifier.verify("garbage"), 401, "TOKEN_INVALID");
  });

  test("development mode does not accept Entra tokens", async () => {
    const jwks = await startJwksServer();
    try {
      const verifier = createTokenVerifier(devConfig({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT }));
      const token = await signEntraToken({ tenantId: TENANT, clientId: CLIENT, key: jwks.current });
      await expectProblem(verifier.verify(token), 401, "TOKEN_INVALID");
    } finally {
      await jwks.stop();
    }
  });

  test("without DEV_MOCK_TOKEN (staging in development auth) only dev JWTs are accepted", async () => {
    const staging = configFrom({
      ENVIRONMENT: "staging",
      AUTH_MODE: "development",
      SECRET_KEY: STRONG_SECRET,
      ALLOWED_ORIGINS: "https://staging.example.com",
    });
    expect(staging.devMockToken).toBeNull();
    const verifier = createTokenVerifier(staging);
    await expectProblem(verifier.verify(MOCK_TOKEN), 401, "TOKEN_INVALID");
    const token = await signDevToken({ secretKey: STRONG_SECRET, email: "s@example.com" });
    expect((await verifier.verify(token)).kind).toBe("dev-jwt");
  });

  test("verifyDevToken is usable on its own", async () => {
    const token = await signDevToken({ secretKey: STRONG_SECRET, email: "solo@example.com", expiresInS: 60 });
    const claims = await verifyDevToken(token, STRONG_SECRET);
    expect(claims.email).toBe("solo@example.com");
    expect(claims.exp - claims.iat!).toBe(60);
  });
});

describe("parseBearer", () => {
  test("returns the token of a Bearer header (scheme case-insensitive)", () => {
    expect(parseBearer("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(parseBearer("bearer   tok  ")).toBe("tok");
    expect(parseBearer("BEARER tok")).toBe("tok");
  });

  test.each([null, undefined, "", "   ", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token abc", "abc"])(
    "%p → 401 UNAUTHENTICATED",
    (value) => {
      let caught: unknown;
      try {
        parseBearer(value);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AppError);
      const error = caught as AppError;
      expect(error.status).toBe(401);
      expect(error.code).toBe("UNAUTHENTICATED");
      expect(error.headers["WWW-Authenticate"]).toBe('Bearer realm="camp-backend"');
    },
  );
});

describe("memoised verification", () => {
  const identity = (exp: number | null): VerifiedIdentity => ({
    kind: "dev-jwt",
    oid: "o",
    email: "a@example.com",
    name: null,
    sid: null,
    iat: null,
    exp,
  });

  test("a verified token is remembered for the TTL, never past its exp; failures are not remembered", async () => {
    let t = 1_000_000;
    let calls = 0;
    let fail = false;
    const verify = memoiseVerifier(
      async (token) => {
        calls++;
        if (fail) throw new Error("bad");
        return identity(token === "short" ? (t + 5_000) / 1000 : null);
      },
      { ttlMs: 60_000, now: () => t },
    );
    await verify("long");
    await verify("long");
    expect(calls).toBe(1);
    t += 59_000;
    await verify("long");
    expect(calls).toBe(1);
    t += 2_000;
    await verify("long");
    expect(calls).toBe(2);

    await verify("short");
    t += 4_000;
    await verify("short");
    expect(calls).toBe(3);
    t += 2_000; // past exp: verified again (and the real verifier would refuse it)
    fail = true;
    await expect(verify("short")).rejects.toThrow("bad");
    await expect(verify("short")).rejects.toThrow("bad");
    expect(calls).toBe(5);
  });

  test("the memo is bounded", async () => {
    let calls = 0;
    const verify = memoiseVerifier(
      async () => {
        calls++;
        return identity(null);
      },
      { maxEntries: 2 },
    );
    await verify("a");
    await verify("b");
    await verify("c"); // evicts a
    await verify("b");
    expect(calls).toBe(3);
    await verify("a");
    expect(calls).toBe(4);
  });

  test("a dev JWT verified once is not re-verified, and an expired one is still refused", async () => {
    const verifier = createTokenVerifier(devConfig());
    const token = await signDevToken({ secretKey: STRONG_SECRET, email: "memo@example.com" });
    const a = await verifier.verify(token);
    const b = await verifier.verify(token);
    expect(b).toBe(a);
    const expired = await signDevToken({
      secretKey: STRONG_SECRET,
      email: "memo@example.com",
      expiresInS: -120,
    });
    await expect(verifier.verify(expired)).rejects.toMatchObject({ code: "TOKEN_EXPIRED" });
  });
});
