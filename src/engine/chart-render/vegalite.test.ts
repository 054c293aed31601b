import { describe, expect, test } from "bun:test";
import { WATERFALL_COLORS } from "@/engine";
import { sampleModels } from "./samples";
import { toVegaLite } from "./vegalite";

const SIZE = { width: 960, height: 540 };

describe("toVegaLite", () => {
  test("every type gives a sized, titled, deterministic spec", () => {
    for (const model of Object.values(sampleModels())) {
      const spec = toVegaLite(model, SIZE);
      expect(spec.$schema).toBe("https://vega.github.io/schema/vega-lite/v5.json");
      expect(spec).toMatchObject({
        width: 960,
        height: 540,
        autosize: { type: "fit", contains: "padding" },
        background: "white",
        title: { text: "売上推移" },
        config: { font: "Noto Sans JP" },
      });
      expect(JSON.stringify(toVegaLite(structuredClone(model), SIZE))).toBe(JSON.stringify(spec));
    }
  });

  test("bar keeps category order, series colours and axis titles", () => {
    const spec = toVegaLite(sampleModels().bar, SIZE) as any;
    expect(spec.mark).toEqual({ type: "bar" });
    expect(spec.encoding.x).toEqual({
      field: "x",
      type: "nominal",
      sort: ["第1四半期", "第2四半期", "第3四半期", "第4四半期"],
      title: "四半期",
    });
    expect(spec.encoding.y.title).toBe("値");
    expect(spec.encoding.color.scale).toEqual({
      domain: ["営業部", "開発部 <R&D>"],
      range: ["#4e79a7", "#f28e2b"],
    });
    expect(spec.encoding.color.legend).toEqual({ title: "部門" });
    expect(spec.data.values[0]).toEqual({ series: "営業部", x: "第1四半期", y: 120 });
  });

  test("no title key without a title", () => {
    expect("title" in toVegaLite(sampleModels(null).line, SIZE)).toBe(false);
  });

  test("line&bar uses two layers with independent y scales", () => {
    const spec = toVegaLite(sampleModels()["line&bar"], SIZE) as any;
    expect(spec.resolve).toEqual({ scale: { y: "independent" } });
    expect(spec.layer[0].mark.type).toBe("bar");
    expect(spec.layer[1].mark.type).toBe("line");
    expect(spec.layer[1].encoding.y.axis).toEqual({ orient: "right" });
    expect(spec.layer[1].encoding.y.title).toBe("粗利率");
  });

  test("waterfall draws start→end bars in the fixed colours", () => {
    const spec = toVegaLite(sampleModels().waterfall, SIZE) as any;
    expect(spec.encoding.y.field).toBe("start");
    expect(spec.encoding.y2).toEqual({ field: "end" });
    expect(spec.encoding.color.scale.range).toEqual([
      WATERFALL_COLORS.increase,
      WATERFALL_COLORS.decrease,
      WATERFALL_COLORS.total,
    ]);
    expect(spec.data.values.map((v: any) => v.kind)).toEqual([
      "total",
      "increase",
      "decrease",
      "decrease",
      "total",
    ]);
  });

  test("pie is an arc in slice order with slice colours", () => {
    const spec = toVegaLite(sampleModels().pie, SIZE) as any;
    expect(spec.mark).toEqual({ type: "arc" });
    expect(spec.encoding.color.scale.domain).toEqual(["製品A", "製品B", "製品C", "その他"]);
    expect(spec.data.values.map((v: any) => v.order)).toEqual([0, 1, 2, 3]);
  });
});
