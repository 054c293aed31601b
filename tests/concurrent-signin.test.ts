import { describe, expect, test } from "bun:test";
import { signDevToken } from "@/lib/auth/dev-token";
import { testApp } from "./helpers/context";
import { uniqueEmail } from "./helpers/users";

describe("first sign-in", () => {
  test("concurrent first requests of new users all succeed, with one account and one session each", async () => {
    const { request, deps } = await testApp();
    const emails = Array.from({ length: 15 }, () => uniqueEmail("race"));
    const tokens = await Promise.all(
      emails.map((email) => signDevToken({ secretKey: deps.config.secretKey, email })),
    );
    const responses = await Promise.all(
      tokens.flatMap((t) =>
        [0, 1, 2].map(() =>
          request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${t}` } }),
        ),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    const ids = await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id));
    expect(new Set(ids).size).toBe(emails.length);
    const rows = await deps.database.raw.query<{ n: number }>(
      `select count(*)::int as n from user_session s join user_account u on u.id = s.user_id where u.email = any($1)`,
      [emails],
    );
    expect(rows[0].n).toBe(emails.length);
  });
});
