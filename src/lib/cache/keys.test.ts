import { expect, test } from "bun:test";
import {
  authSessionKey,
  catalogueKey,
  hourBucket,
  llmQuotaKey,
  memberRoleKey,
  memberRolePrefix,
  projectKey,
  rateLimitKey,
  settingsKey,
  userKey,
  userTtlS,
} from "@/lib/cache/keys";

test("keys follow api.md §4.3", () => {
  expect(userKey("u1")).toBe("user:u1");
  expect(authSessionKey("abc")).toBe("authsess:abc");
  expect(memberRoleKey("p1", "u1")).toBe("member_role:p1:u1");
  expect(memberRoleKey("p1", "u1").startsWith(memberRolePrefix("p1"))).toBe(true);
  expect(memberRoleKey("p10", "u1").startsWith(memberRolePrefix("p1"))).toBe(false);
  expect(projectKey("p1")).toBe("project:p1");
  expect(rateLimitKey("ip:1.2.3.4")).toBe("ratelimit:ip:1.2.3.4");
  expect(settingsKey("llm")).toBe("settings:llm");
  expect(catalogueKey(7)).toBe("catalogue:v7");
});

test("llm quota buckets by UTC hour", () => {
  const at = Date.UTC(2026, 0, 2, 13, 59, 59);
  expect(hourBucket(at)).toBe(hourBucket(Date.UTC(2026, 0, 2, 13, 0, 0)));
  expect(llmQuotaKey("u1", new Date(at))).toBe(`llmquota:u1:${hourBucket(at)}`);
});

test("identity TTL is shorter without a shared cache", () => {
  expect(userTtlS("memory")).toBe(5);
  expect(userTtlS("redis")).toBe(60);
});
