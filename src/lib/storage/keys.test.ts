import { describe, expect, test } from "bun:test";
import {
  graphKey,
  projectFileKey,
  projectPrefix,
  sanitiseFilename,
  sessionPrefix,
  snapshotKey,
  tempKey,
} from "@/lib/storage/keys";
import { StorageKeyError } from "@/lib/storage/types";

describe("sanitiseFilename (api.md §2.5)", () => {
  test.each([
    ["../../../etc/passwd", "passwd"],
    ["..\\..\\windows\\system32\\config", "config"],
    ["C:\\Users\\me\\Book 1.xlsx", "Book_1.xlsx"],
    ["/path/to/file.xlsx", "file.xlsx"],
    ["my file name.csv", "my_file_name.csv"],
    ["report@#$.pdf", "report.pdf"],
    ["file-name_v1.2.xlsx", "file-name_v1.2.xlsx"],
    ["file.name.v1.2.xlsx", "file.name.v1.2.xlsx"],
    ["...hidden.txt", "hidden.txt"],
    ["__init__.py", "init__.py"],
    ["trailing._-", "trailing"],
    ["売上データ　2024年.xlsx", "売上データ_2024年.xlsx"],
    ["Ünïcödé.csv", "Ünïcödé.csv"],
    ["", "unknown"],
    ["@#$", "unknown"],
    ["..", "unknown"],
    ["a/", "unknown"],
    ["%2e%2e%2fetc", "2e2e2fetc"],
    ["null\u0000byte.txt", "nullbyte.txt"],
  ])("%j → %j", (input, expected) => {
    expect(sanitiseFilename(input)).toBe(expected);
  });

  test("missing names become unknown", () => {
    expect(sanitiseFilename(undefined)).toBe("unknown");
    expect(sanitiseFilename(null)).toBe("unknown");
  });

  test("NFC: decomposed and composed forms agree", () => {
    const decomposed = "ガ.txt".normalize("NFD");
    expect(decomposed).not.toBe("ガ.txt");
    expect(sanitiseFilename(decomposed)).toBe("ガ.txt");
  });

  test("long names are cut to 200 characters, keeping the extension", () => {
    const out = sanitiseFilename(`${"a".repeat(300)}.xlsx`);
    expect(out.length).toBe(200);
    expect(out.endsWith(".xlsx")).toBe(true);
    expect(sanitiseFilename("b".repeat(250))).toBe("b".repeat(200));
  });

  test("long non-ASCII names also fit a 255-byte file-system name with the id prefix", () => {
    const out = sanitiseFilename(`${"日".repeat(150)}.xlsx`);
    expect(out.endsWith(".xlsx")).toBe(true);
    expect(new TextEncoder().encode(out).length).toBeLessThanOrEqual(200);
    expect(new TextEncoder().encode(`${crypto.randomUUID()}_${out}`).length).toBeLessThanOrEqual(255);
  });

  test("output only ever holds letters, digits and ._-", () => {
    for (const s of ['a b/c\\d:e*f?g"h<i>j|k', "\t\n\r x", "😀 emoji.png"]) {
      expect(sanitiseFilename(s)).toMatch(/^[\p{L}\p{N}._-]+$/u);
    }
  });
});

describe("storage keys (seed layout)", () => {
  const p = "0b9f3c1e-1111-4222-8333-944455556666";
  const f = "a1b2c3d4-0000-4000-8000-000000000001";
  test("project files", () => {
    expect(projectFileKey(p, f, "Book_1.xlsx")).toBe(`projects/${p}/${f}_Book_1.xlsx`);
    expect(projectFileKey(p, f, "x").startsWith(projectPrefix(p))).toBe(true);
  });
  test("analysis artefacts and temp", () => {
    expect(snapshotKey("s1", "20260102T130000000Z")).toBe("analysis/s1/snapshot_20260102T130000000Z.json");
    expect(snapshotKey("s1", new Date(Date.UTC(2026, 0, 2, 13, 0, 0, 5)))).toBe(
      "analysis/s1/snapshot_20260102T130000005Z.json",
    );
    expect(snapshotKey("s1", 1767358800000)).toBe("analysis/s1/snapshot_1767358800000.json");
    expect(graphKey("s1", "g7")).toBe("analysis/s1/graph_g7.png");
    expect(graphKey("s1", "g7").startsWith(sessionPrefix("s1"))).toBe(true);
    expect(tempKey("u1")).toBe("temp/u1_temp.tmp");
  });
  test("ids and names cannot smuggle path syntax", () => {
    expect(() => projectPrefix("../x")).toThrow(StorageKeyError);
    expect(() => projectFileKey(p, f, "../x")).toThrow(StorageKeyError);
    expect(() => projectFileKey(p, "a/b", "x")).toThrow(StorageKeyError);
    expect(() => graphKey("s1", "g/../../x")).toThrow(StorageKeyError);
    expect(() => snapshotKey("s1", "1/2")).toThrow(StorageKeyError);
  });
});
