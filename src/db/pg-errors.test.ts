import { describe, expect, test } from "bun:test";
import { isUniqueViolation, pgErrorCode } from "./pg-errors";

describe("PostgreSQL error codes", () => {
  test("found through cause chains; system error codes are not SQLSTATEs", () => {
    const driver = Object.assign(new Error("duplicate key"), { code: "23505" });
    const wrapped = new Error("query failed", { cause: driver });
    expect(pgErrorCode(wrapped)).toBe("23505");
    expect(isUniqueViolation(wrapped)).toBe(true);
    expect(pgErrorCode(Object.assign(new Error("x"), { code: "22P02" }))).toBe("22P02");
    expect(pgErrorCode(Object.assign(new Error("socket"), { code: "EPIPE" }))).toBeNull();
    expect(isUniqueViolation(new Error("plain"))).toBe(false);
  });
});
