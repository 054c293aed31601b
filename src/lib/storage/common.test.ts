import { describe, expect, test } from "bun:test";
import { assertValidKey, resolveRange } from "@/lib/storage/common";
import { StorageKeyError, StorageRangeError } from "@/lib/storage/types";

describe("assertValidKey", () => {
  test.each(["projects/p/f_a.xlsx", "temp/u_temp.tmp", "a", "a.b/c..d/e", "日本語/ファイル.csv"])(
    "accepts %j",
    (k) => {
      expect(() => assertValidKey(k)).not.toThrow();
    },
  );

  test.each([
    "",
    "../x",
    "a/../../b",
    "a/..",
    "./a",
    "/etc/passwd",
    "a//b",
    "a/",
    "..\\x",
    "a\\b",
    "C:/x",
    "c:x",
    "a\u0000b",
    "a\nb",
    "%2e%2e/x",
    "%2E%2E%2Fx",
    "a/%2e%2e%2f%2e%2e/b",
    "%252e%252e/x",
    "%2fetc/passwd",
    "%5c..",
    "%zz",
    "a/.~tmp-123",
  ])("rejects %j", (k) => {
    expect(() => assertValidKey(k)).toThrow(StorageKeyError);
  });

  test("prefixes may be empty or end with a slash", () => {
    expect(() => assertValidKey("", "prefix")).not.toThrow();
    expect(() => assertValidKey("projects/p/", "prefix")).not.toThrow();
    expect(() => assertValidKey("projects/p/f_", "prefix")).not.toThrow();
    expect(() => assertValidKey("../", "prefix")).toThrow(StorageKeyError);
    expect(() => assertValidKey("projects//", "prefix")).toThrow(StorageKeyError);
  });
});

describe("resolveRange", () => {
  test("full object without a range", () => {
    expect(resolveRange(10)).toEqual({ start: 0, end: 9, length: 10, partial: false });
    expect(resolveRange(0, {})).toEqual({ start: 0, end: -1, length: 0, partial: false });
  });
  test("inclusive ranges, end clamped", () => {
    expect(resolveRange(10, { start: 2, end: 4 })).toEqual({ start: 2, end: 4, length: 3, partial: true });
    expect(resolveRange(10, { start: 5 })).toEqual({ start: 5, end: 9, length: 5, partial: true });
    expect(resolveRange(10, { start: 8, end: 100 })).toEqual({ start: 8, end: 9, length: 2, partial: true });
  });
  test("unsatisfiable ranges", () => {
    expect(() => resolveRange(10, { start: 10 })).toThrow(StorageRangeError);
    expect(() => resolveRange(10, { start: 5, end: 4 })).toThrow(StorageRangeError);
    expect(() => resolveRange(10, { start: -1 })).toThrow(StorageRangeError);
    expect(() => resolveRange(0, { start: 0 })).toThrow(StorageRangeError);
  });
});
