import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { buildApp } from "@/app";
import { userAccount } from "@/db/schema";
import { signDevToken } from "@/lib/auth/dev-token";
import { testDeps } from "./helpers/context";
import { json } from "./helpers/http";
import { type JwksServer, signEntraToken, startJwksServer } from "./helpers/jwks-server";

const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "66666666-7777-8888-9999-000000000000";
const SECRET = "k3J9x!Qz7Lp2Vw8Rt5Yb1Nm4Hc6Gd0Fs-Ae_Uo9Ij3Kl7Mn2Bv5Cx8Zq1Wr4Ty6Pu0Sd";

/* The whole pipeline in production auth mode, with a real key server on loopback. */
describe("production auth through HTTP (Entra ID)", () => {
  let jwks: JwksServer;
  let request: (path: string, init?: RequestInit) => Promise<Response>;
  let deps: Awaited<ReturnType<typeof testDeps>>;
  beforeAll(async () => {
    jwks = await startJwksServer();
    deps = await testDeps({
      ENVIRONMENT: "staging",
      AUTH_MODE: "production",
      SECRET_KEY: SECRET,
      ALLOWED_ORIGINS: "https://app.example.com",
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_JWKS_URL: jwks.url,
      DEV_MOCK_TOKEN: "mock-access-token-dev-12345",
    });
    const app = buildApp(deps);
    request = (path, init = {}) => app.handle(new Request(`http://localhost${path}`, init));
  });
  afterAll(() => jwks.stop());

  test("a valid access token provisions the user as a plain user; a second login with the same oid is the same account", async () => {
    const oid = crypto.randomUUID();
    const email = `entra.${oid.slice(0, 8)}@contoso.example`;
    const claims = { oid, preferred_username: email, name: "Entra User" };
    const token = await signEntraToken({ tenantId: TENANT, clientId: CLIENT, key: jwks.current, claims });
    const res = await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const me = await json(res);
    expect(me).toMatchObject({
      email,
      displayName: "Entra User",
      roles: ["user"],
      azureOid: oid,
      loginCount: 1,
    });
    // Token role claims are never copied over the database's roles.
    const withRoles = await signEntraToken({
      tenantId: TENANT,
      clientId: CLIENT,
      key: jwks.current,
      audience: `api://${CLIENT}`,
      issuer: "v1",
      claims: { ...claims, roles: ["system_admin"], name: "Entra User Renamed" },
    });
    const again = await json(
      await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${withRoles}` } }),
    );
    expect(again.id).toBe(me.id);
    expect(again.roles).toEqual(["user"]);
    expect(again.displayName).toBe("Entra User Renamed");
    expect(again.loginCount).toBe(2);
    const [row] = await deps.database.db.select().from(userAccount).where(eq(userAccount.id, me.id));
    expect(row.idpName).toBe("Entra User Renamed");
  });

  test("the development token and HS256 dev JWTs are refused in production mode", async () => {
    const dev = await request("/api/v1/user_account/me", {
      headers: { authorization: "Bearer mock-access-token-dev-12345" },
    });
    expect(dev.status).toBe(401);
    expect((await json(dev)).code).toBe("TOKEN_INVALID");
    const hs = await signDevToken({ secretKey: SECRET, email: "dev@example.com" });
    const res = await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${hs}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  test("expired, wrong audience and missing scope answer 401/401/403 problems", async () => {
    const base = { tenantId: TENANT, clientId: CLIENT, key: jwks.current };
    const expired = await signEntraToken({ ...base, expiresInS: -600 });
    const r1 = await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${expired}` } });
    expect((await json(r1)).code).toBe("TOKEN_EXPIRED");
    const aud = await signEntraToken({ ...base, audience: "api://someone-else" });
    const r2 = await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${aud}` } });
    expect((await json(r2)).code).toBe("TOKEN_INVALID");
    const noScope = await signEntraToken({ ...base, scp: "User.Read" });
    const r3 = await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${noScope}` } });
    expect(r3.status).toBe(403);
    expect((await json(r3)).code).toBe("INSUFFICIENT_SCOPE");
    expect(r3.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(r3.headers.get("strict-transport-security")).toContain("max-age");
  });
});
