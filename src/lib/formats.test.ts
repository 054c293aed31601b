import { heapStats } from "bun:jsc";
import { describe, expect, test } from "bun:test";
import "@elysiajs/openapi";
import { FormatRegistry } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { t } from "elysia";
import { fallbackOf, registerFastFormats } from "@/lib/formats";

/*
 * Live functions on the heap. A Zod (v4) schema is plain objects and closures — about two dozen
 * functions each — so a check that builds one per call shows up here, and a regex test does not.
 */
const liveFunctions = () => (heapStats().objectTypeCounts as Record<string, number>).Function ?? 0;

/* Functions allocated per check, on average. */
const checkMany = (check: (v: string) => boolean, value: string, n = 200) => {
  Bun.gc(true);
  const before = liveFunctions();
  for (let i = 0; i < n; i++) check(value);
  return (liveFunctions() - before) / n;
};

describe("fast format checks", () => {
  const uuid = "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b";

  test("the OpenAPI plugin's own uuid check builds Zod objects (what is being replaced)", () => {
    const zodBacked = FormatRegistry.Get("uuid")!;
    // Skips itself if a future plugin version stops doing it; the assertion below still holds.
    if (!/check\(|safeParse/.test(zodBacked.toString())) return;
    expect(checkMany(zodBacked, uuid)).toBeGreaterThan(5);
  });

  test("after registration a uuid check allocates no Zod schema", () => {
    registerFastFormats();
    const C = TypeCompiler.Compile(t.Object({ id: t.String({ format: "uuid" }) }));
    expect(checkMany((v) => C.Check({ id: v }), uuid)).toBeLessThan(0.1);
    expect(FormatRegistry.Get("uuid")!.toString()).not.toMatch(/check\(|safeParse|string3/);
  });

  test("uuid, date and email keep their meaning", () => {
    registerFastFormats();
    const check = (format: string, v: string) => FormatRegistry.Get(format)!(v);
    expect(check("uuid", uuid)).toBe(true);
    expect(check("uuid", uuid.toUpperCase())).toBe(true);
    expect(check("uuid", "not-a-uuid")).toBe(false);
    expect(check("uuid", `urn:uuid:${uuid}`)).toBe(false);
    expect(check("uuid", `${uuid}x`)).toBe(false);
    expect(check("date", "2026-02-28")).toBe(true);
    expect(check("date", "2026-02-30")).toBe(false);
    expect(check("date", "2026-2-3")).toBe(false);
    expect(check("email", "a@example.com")).toBe(true);
    expect(check("email", "nope")).toBe(false);
  });

  test("date-time: the canonical form takes the anchored path; every other value gets the previous answer", () => {
    registerFastFormats();
    const fast = FormatRegistry.Get("date-time")!;
    const previous = fallbackOf(fast);
    expect(fast).not.toBe(previous);
    // Registered once: a second call does not wrap the wrapper.
    registerFastFormats();
    expect(FormatRegistry.Get("date-time")).toBe(fast);
    const values = [
      new Date().toISOString(),
      "2026-02-28T10:00:00Z",
      "2026-02-28T10:00:00.123+02:00",
      "2026-02-28T10:00Z",
      "2026-02-28 10:00:00",
      '"2026-02-28T10:00:00Z"',
      "2026-13-45T99:00:00Z",
      "2026-02-28T10:00:00",
      "not a date",
      "",
    ];
    for (const v of values) expect({ v, ok: fast(v) }).toEqual({ v, ok: previous(v) });
    expect(fast(new Date().toISOString())).toBe(true);
    expect(fast("not a date")).toBe(false);
  });
});
