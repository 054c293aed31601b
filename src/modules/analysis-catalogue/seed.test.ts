import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  readAnalysisSeed,
  recipeProblems,
  SEED_NAMESPACE,
  SeedSetInvalidError,
  seededIssueId,
  uuidv5,
} from "./seed";

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

describe("set validation names file and field", () => {
  const problemsOf = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), "camp-seed-shape-"));
    mkdirSync(join(dir, "issues"));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    try {
      readAnalysisSeed(dir);
      throw new Error("the set was accepted");
    } catch (e) {
      if (!(e instanceof SeedSetInvalidError)) throw e;
      for (const p of e.problems) expect(e.message).toContain(`${p.file} ${p.field}: ${p.message}`);
      return e.problems;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test("themes.yaml: slug, trimmed length, integer, unknown field, duplicates", () => {
    const problems = problemsOf({
      "themes.yaml": [
        "- {key: Bad Key, name: '   ', order: 1.5, colour: red}",
        "- {key: ok, name: Ok, order: 1}",
        "- {key: ok, name: ' ok ', order: 2}",
        `- {key: long, name: ${"x".repeat(256)}, order: 3}`,
      ].join("\n"),
      "issues/a.yaml": "key: a\n",
    }).filter((p) => p.file === "themes.yaml");
    expect(problems).toEqual([
      { file: "themes.yaml", field: "[0].colour", message: "unknown field; allowed: key, name, order" },
      { file: "themes.yaml", field: "[0].key", message: "must be a slug (a-z, 0-9, -)" },
      { file: "themes.yaml", field: "[0].name", message: "must be 1–255 characters" },
      { file: "themes.yaml", field: "[0].order", message: "must be an integer" },
      { file: "themes.yaml", field: "[3].name", message: "is 256 characters long; at most 255" },
      { file: "themes.yaml", field: "[2].key", message: "duplicate theme key ok" },
      { file: "themes.yaml", field: "[2].name", message: "duplicate theme name ok" },
    ]);
  });

  test("an issue file: required, unknown and mistyped fields, nested paths, step references", () => {
    const issue = [
      "key: wrong-name",
      "theme: t",
      "order: one",
      "name: N",
      "description: D",
      "dummyHint: H",
      "initialMessage: M",
      "agentPrompt: P",
      "sampleInput: s.csv",
      "axisPickers:",
      "  - {name: a, option: row, multiple: true}",
      "preview:",
      "  steps:",
      "    - {key: original, name: s, type: pivot, input: original, config: {}}",
      "    - {key: b, name: b, type: summary, input: nowhere, config: {}}",
      "  formulaSteps: [b, b]",
      "  chartSteps: [x]",
      "extra: 1",
    ].join("\n");
    const problems = problemsOf({
      "themes.yaml": "- {key: t, name: T, order: 1}",
      "issues/i.yaml": issue,
    }).map(({ field, message }) => [field, message]);
    expect(problems).toEqual(
      expect.arrayContaining([
        [
          "extra",
          "unknown field; allowed: key, theme, order, name, description, dummyHint, initialMessage, axisPickers, sampleInput, preview, agentPrompt",
        ],
        ["order", "must be an integer"],
        ["axisPickers[0].option", "must be subject or column"],
        ["preview.steps[0].key", 'must be a slug other than "original"'],
        ["preview.steps[0].type", "must be one of filter, aggregate, transform, summary"],
        ["key", "must equal the file name (i)"],
        ["agentPrompt", 'missing heading "## 目的"'],
        ["sampleInput", "s.csv does not exist"],
        [
          "preview.steps[1].input",
          'must be "original" or the key of an earlier filter/aggregate/transform step (original)',
        ],
        ["preview.formulaSteps", "lists a step twice"],
        ["preview.chartSteps[0]", "x is not a summary step key"],
      ]),
    );
    const missing = problemsOf({
      "themes.yaml": "- {key: t, name: T, order: 1}",
      "issues/j.yaml": "key: j\n",
    });
    expect(missing).toContainEqual({ file: "issues/j.yaml", field: "agentPrompt", message: "is required" });
  });
});
