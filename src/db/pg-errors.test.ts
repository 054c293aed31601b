import { describe, expect, test } from "bun:test";
import { isConnectionError, isUniqueViolation, pgErrorCode } from "./pg-errors";

const withCode = (code: string) => Object.assign(new Error(code), { code });

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

  test("connection failures are told apart from query failures, also when wrapped", () => {
    for (const code of [
      "EPIPE",
      "ECONNRESET",
      "ECONNREFUSED",
      "CONNECTION_CLOSED",
      "CONNECT_TIMEOUT",
      "57P01",
      "57P02",
      "57P03",
      "08006",
      "08001",
      "08P01",
    ]) {
      expect({ code, connection: isConnectionError(new Error("query", { cause: withCode(code) })) }).toEqual({
        code,
        connection: true,
      });
    }
    for (const code of ["23505", "22P02", "42P01", "57014", "ENOENT", "ENOSPC"]) {
      expect({ code, connection: isConnectionError(withCode(code)) }).toEqual({ code, connection: false });
    }
    expect(isConnectionError(new Error("plain"))).toBe(false);
    expect(isConnectionError(null)).toBe(false);
  });
});
