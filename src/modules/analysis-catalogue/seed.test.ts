import { describe, expect, test } from "bun:test";
import { recipeProblems, SEED_NAMESPACE, seededIssueId, uuidv5 } from "./seed";

describe("uuidv5", () => {
  test("matches the RFC 9562 example (DNS namespace, www.example.com)", () => {
    expect(uuidv5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe(
      "2ed6657d-e927-568b-95e1-2665a8aea6a2",
    );
  });
  test("seed ids are stable version-5 UUIDs", () => {
    expect(seededIssueId("exit-loss-products")).toBe(
      uuidv5("analysis-issue:exit-loss-products", SEED_NAMESPACE),
    );
    expect(seededIssueId("exit-loss-products")).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(seededIssueId("a")).not.toBe(seededIssueId("b"));
  });
});

describe("recipeProblems", () => {
  const ok =
    "## 目的\nx\n\n## 標準フロー\n1. filter を作る\n2. summary\n\n## 確認事項\n- a\n\n## 出力\n- b\n";
  test("a complete recipe has no problems", () => {
    expect(recipeProblems(ok)).toEqual([]);
  });
  test("missing headings and an unnumbered flow are named", () => {
    expect(recipeProblems(ok.replace("## 出力", "## 結果"))).toEqual(['missing heading "## 出力"']);
    expect(recipeProblems(ok.replace("1. filter を作る\n2. summary", "- filter"))).toEqual([
      '"## 標準フロー" has no numbered steps',
    ]);
    expect(recipeProblems("")).toHaveLength(4);
  });
});
