import { describe, expect, test } from "bun:test";
import {
  codeArray,
  dataHash,
  type Frame,
  frameFromRows,
  fromColumnarJson,
  materialiseRows,
  type Row,
  toColumnarJson,
} from "@/engine/frame";
import { createResultCache, runPipeline } from "@/engine/pipeline";

/** Rows with `nProducts` distinct 製品 over 2 years and 2 subjects. */
function rows(nProducts: number): Row[] {
  const out: Row[] = [];
  for (let p = 0; p < nProducts; p++)
    for (const y of ["2023", "2024"])
      for (const s of ["売上", "原価"])
        out.push({ 年度: y, 製品: `p${p}`, 科目: s, 値: p + (s === "売上" ? 10 : 0) });
  return out;
}

describe("dictionary codes in the narrowest array", () => {
  test("Int8 up to 127 values, Int16 up to 32,767, Int32 beyond", () => {
    expect(codeArray(127, 1)).toBeInstanceOf(Int8Array);
    expect(codeArray(128, 1)).toBeInstanceOf(Int16Array);
    expect(codeArray(32767, 1)).toBeInstanceOf(Int16Array);
    expect(codeArray(32768, 1)).toBeInstanceOf(Int32Array);
    const f = frameFromRows(["年度", "製品"], rows(200));
    expect(f.axes[0].codes).toBeInstanceOf(Int8Array);
    expect(f.axes[1].codes).toBeInstanceOf(Int16Array);
    expect(f.subject.codes).toBeInstanceOf(Int8Array);
    const loaded = fromColumnarJson(toColumnarJson(f));
    expect(loaded.axes[1].codes).toBeInstanceOf(Int16Array);
    expect(materialiseRows(loaded)).toEqual(materialiseRows(f));
  });

  test("the data hash does not depend on the code width", () => {
    const f = frameFromRows(["年度", "製品"], rows(3));
    const wide: Frame = {
      ...f,
      axes: f.axes.map((a) => ({ ...a, codes: Int32Array.from(a.codes) })),
      subject: { ...f.subject, codes: Int32Array.from(f.subject.codes) },
    };
    expect(f.axes[0].codes).toBeInstanceOf(Int8Array);
    expect(dataHash(wide)).toBe(dataHash(f));
  });

  test("steps across the Int8/Int16 boundary keep every label (add_subject grows 科目 past 127)", () => {
    // 127 subjects: codes fit Int8; add_subject makes the 128th.
    const base: Row[] = [];
    for (let s = 0; s < 127; s++)
      for (let p = 0; p < 300; p++) base.push({ 製品: `p${p}`, 科目: `s${s}`, 値: s * 1000 + p });
    const f = frameFromRows(["製品"], base);
    expect(f.subject.codes).toBeInstanceOf(Int8Array);
    const r = runPipeline(
      f,
      dataHash(f),
      [
        {
          stepKey: "t",
          name: "t",
          type: "transform",
          input: "original",
          config: {
            operations: [
              {
                operationType: "add_subject",
                targetName: "合計",
                calculation: { type: "formula", formulaType: "+", operands: ["s0", "s126"] },
              },
            ],
          },
        },
        {
          stepKey: "f",
          name: "f",
          type: "filter",
          input: "t",
          config: { categoryFilter: { 科目: ["合計", "s126"], 製品: ["p299", "p0"] } },
        },
        {
          stepKey: "a",
          name: "a",
          type: "aggregate",
          input: "t",
          config: { groupByAxis: [], aggregationConfig: [{ name: "n", method: "count", subject: "合計" }] },
        },
      ],
      { cache: createResultCache() },
    );
    expect(r.steps.map((s) => s.status)).toEqual(["ok", "ok", "ok"]);
    const t = r.steps[0].frame!;
    expect(t.subject.codes).toBeInstanceOf(Int16Array);
    expect(materialiseRows(r.steps[1].frame!)).toEqual([
      { 製品: "p0", 科目: "s126", 値: 126000 },
      { 製品: "p299", 科目: "s126", 値: 126299 },
      { 製品: "p0", 科目: "合計", 値: 126000 },
      { 製品: "p299", 科目: "合計", 値: 126598 },
    ]);
    expect(materialiseRows(r.steps[2].frame!)).toEqual([{ 科目: "n", 値: 300 }]);
  });
});
