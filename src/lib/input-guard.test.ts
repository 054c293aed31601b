import { describe, expect, test } from "bun:test";
import { inspectFlat, inspectValue } from "@/lib/input-guard";

describe("inspectFlat (query strings and path parameters)", () => {
  test("a clean record has no errors", () => {
    expect(inspectFlat({ id: "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b", q: "ä/~ok" }, "/params")).toEqual([]);
    expect(inspectFlat(undefined, "/params")).toEqual([]);
    expect(inspectFlat(Object.create(null), "/query")).toEqual([]);
  });

  test("every refusal is the full inspection's, paths included", () => {
    const cases: Record<string, unknown>[] = [
      { q: "a\u0000b" },
      { "a/b": "\ud800" },
      { ["__proto__"]: "x" },
      { constructor: "x" },
      { "k\u0000": "x" },
      { tags: ["ok", "bad\u0000"] },
    ];
    for (const value of cases) {
      const flat = inspectFlat(value, "/query");
      expect(flat.length).toBeGreaterThan(0);
      expect(flat).toEqual(inspectValue(value, "/query"));
    }
  });
});
