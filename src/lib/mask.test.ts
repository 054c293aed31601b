import { describe, expect, test } from "bun:test";
import { isSecretKey, MASK, maskSecrets, NESTED_MASK, scrubSecretText, stripQuery } from "@/lib/mask";

describe("isSecretKey", () => {
  test.each([
    "password",
    "PASSWORD",
    "token",
    "secret",
    "authorization",
    "Authorization",
    "apiKey",
    "api_key",
    "API_KEY",
    "apikey",
    "accessToken",
    "access_token",
    "refreshToken",
    "sessionToken",
    "clientSecret",
    "client_secret",
    "connectionString",
    "sas",
    "credential",
    "bearer",
    "cookie",
    "set-cookie",
    "newPassword",
    "password_confirmation",
    "userpassword",
    "dbPasswordHash",
    "SECRET_KEY",
    "secretValue",
    "x-auth-token",
    "csrfToken",
    "privateKey",
    "private_key",
    "x-api-key",
    "storageAccountKey",
    "AZURE_STORAGE_CONNECTION_STRING",
  ])("masks %s", (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  test.each([
    "author",
    "authorName",
    "keyboard",
    "keyboardLayout",
    "monkey",
    "key",
    "keyId",
    "secretary",
    "tokenizer",
    "maxTokens",
    "outputTokens",
    "email",
    "name",
    "description",
    "sassy",
    "isSecret",
    "is_secret",
    "hasPassword",
  ])("keeps %s", (key) => {
    expect(isSecretKey(key)).toBe(false);
  });
});

describe("maskSecrets", () => {
  test("replaces values of secret keys with *** at any depth and keeps the rest", () => {
    const input = {
      name: "alice",
      author: "bob",
      password: "hunter2",
      nested: { apiKey: "k-123", list: [{ accessToken: "t" }, { keyboard: "qwerty" }] },
      count: 3,
      flag: false,
      none: null,
    };
    expect(maskSecrets(input)).toEqual({
      name: "alice",
      author: "bob",
      password: MASK,
      nested: { apiKey: MASK, list: [{ accessToken: MASK }, { keyboard: "qwerty" }] },
      count: 3,
      flag: false,
      none: null,
    });
  });

  test("masks whole objects and non-string values under a secret key", () => {
    expect(
      maskSecrets<unknown>({ credentials: { user: "u", pass: "p" }, token: 12345, secret: null }),
    ).toEqual({
      credentials: MASK,
      token: MASK,
      secret: MASK,
    });
  });

  test("does not modify its input", () => {
    const input = { password: "x", inner: { token: "y" } };
    maskSecrets(input);
    expect(input).toEqual({ password: "x", inner: { token: "y" } });
  });

  test("stops at depth 10 with ***NESTED***", () => {
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 12; i++) {
      const next: Record<string, unknown> = { leaf: i };
      cursor.child = next;
      cursor = next;
    }
    const masked = maskSecrets(deep) as Record<string, unknown>;
    let at: unknown = masked;
    for (let level = 0; level < 10; level++) {
      expect(typeof at).toBe("object");
      at = (at as Record<string, unknown>).child;
    }
    expect(at).toBe(NESTED_MASK);
  });

  test("depth is configurable", () => {
    expect(maskSecrets<unknown>({ a: { b: { c: 1 } } }, 2)).toEqual({ a: { b: NESTED_MASK } });
    expect(maskSecrets<unknown>({ a: 1 }, 0)).toBe(NESTED_MASK);
    expect(maskSecrets("plain", 0)).toBe("plain");
  });

  test("survives cycles by the depth limit", () => {
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    expect(() => JSON.stringify(maskSecrets(a))).not.toThrow();
  });

  test("hides values of settings flagged is_secret", () => {
    expect(maskSecrets({ key: "SMTP_PASS", value: "p@ss", is_secret: true })).toEqual({
      key: "SMTP_PASS",
      value: MASK,
      is_secret: true,
    });
    expect(maskSecrets({ key: "site", value: "x", isSecret: false })).toEqual({
      key: "site",
      value: "x",
      isSecret: false,
    });
  });

  test("scrubs bearer tokens and JWTs from strings under any key", () => {
    const out = maskSecrets({
      note: "called with Bearer abc.def.ghi",
      jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    });
    expect(JSON.stringify(out)).not.toContain("abc.def.ghi");
    expect(JSON.stringify(out)).not.toContain("c2lnbmF0dXJl");
  });

  test("turns errors into scrubbed records and summarises binary data", () => {
    const err = Object.assign(new Error("Bearer zzz.yyy.xxx rejected"), { token: "t", code: "E1" });
    const out = maskSecrets({ err, bytes: new Uint8Array(42) }) as Record<string, any>;
    expect(out.err.message).toBe("Bearer *** rejected");
    expect(out.err.type).toBe("Error");
    expect(out.err.token).toBe(MASK);
    expect(out.err.code).toBe("E1");
    expect(out.bytes).toBe("[binary 42 bytes]");
  });

  test("reads fetch Headers and Maps as records", () => {
    const headers = new Headers({ Authorization: "Bearer abc", Accept: "application/json" });
    expect(maskSecrets<unknown>({ headers, map: new Map([["apiKey", "k"]]) })).toEqual({
      headers: { authorization: MASK, accept: "application/json" },
      map: { apiKey: MASK },
    });
  });

  test("keeps dates and arrays of scalars", () => {
    const when = new Date("2025-01-01T00:00:00Z");
    expect(maskSecrets({ when, tags: ["a", "b"] })).toEqual({ when, tags: ["a", "b"] });
  });
});

describe("scrubSecretText", () => {
  test("removes credentials from connection strings and URLs", () => {
    expect(scrubSecretText("AccountName=a;AccountKey=abc123==;EndpointSuffix=core")).toBe(
      "AccountName=a;AccountKey=***;EndpointSuffix=core",
    );
    expect(scrubSecretText("postgresql://user:pw@db:5432/app")).toBe("postgresql://user:***@db:5432/app");
    expect(scrubSecretText("https://x.blob/c/f?sv=1&sig=SIGNATURE&se=2")).toBe(
      "https://x.blob/c/f?sv=1&sig=***&se=2",
    );
    expect(scrubSecretText("nothing to hide")).toBe("nothing to hide");
  });
});

describe("stripQuery", () => {
  test("drops the query string and fragment", () => {
    expect(stripQuery("/api/v1/project?token=abc")).toBe("/api/v1/project");
    expect(stripQuery("/a#frag")).toBe("/a");
    expect(stripQuery("https://h/x?y=1#z")).toBe("https://h/x");
    expect(stripQuery("/plain")).toBe("/plain");
  });
});
