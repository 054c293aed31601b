import { describe, expect, test } from "bun:test";
import { graphKey } from "@/lib/storage/keys";
import { seedIssue, sessionOnF1 } from "./helpers/analysis";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

function pngSize(bytes: Uint8Array) {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  expect([...bytes.slice(0, 8)]).toEqual(signature);
  expect(new TextDecoder().decode(bytes.slice(12, 16))).toBe("IHDR");
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

describe("chart images of summary steps (analysis.md §4.5, scenario 25)", async () => {
  const { request, deps } = await testApp();
  const issue = await seedIssue(deps.database.db);
  const renderer = deps.chartRenderer!;

  async function chartWorld(title = "売上推移") {
    const w = await sessionOnF1(request, deps.config.secretKey, issue.id);
    const post = async (body: unknown) =>
      json(await request(`${w.sbase}/step`, jsonInit("POST", body, w.user.auth)));
    const agg = await post({
      name: "年度別集計",
      type: "aggregate",
      input: "original",
      config: {
        groupByAxis: ["年度"],
        aggregationConfig: [{ name: "売上合計", method: "sum", subject: "売上" }],
      },
    });
    const filter = await post({
      name: "売上のみ",
      type: "filter",
      input: agg.stepKey,
      config: { categoryFilter: { 科目: ["売上合計"] } },
    });
    const summary = await post({
      name: "年度別グラフ",
      type: "summary",
      input: filter.stepKey,
      config: { chartConfig: { graphType: "bar", xAxis: "年度", yAxis: "値", title } },
    });
    return { ...w, agg, filter, summary, chart: `${w.sbase}/step/${summary.id}/chart` };
  }

  test("PNG: exact size, stored once under graph_{graphId}.png, then served from storage; ETag and 304", async () => {
    const w = await chartWorld();
    expect(w.summary.status).toBe("ok");
    expect(w.summary.chartId).toMatch(/^[0-9a-f]{32}$/);
    const before = renderer.renderCount();
    const res = await request(`${w.chart}?format=png&width=800&height=450&scale=1`, { headers: w.user.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    const graphId = res.headers.get("x-graph-id")!;
    expect(res.headers.get("etag")).toBe(`"${graphId}"`);
    expect(res.headers.get("cache-control")).toBe("private, max-age=3600");
    expect(res.headers.get("content-disposition")).toContain("inline");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(pngSize(bytes)).toEqual({ width: 800, height: 450 });
    expect(renderer.renderCount()).toBe(before + 1);
    expect(await deps.storage.exists("analysis", graphKey(w.sessionId, graphId))).toBe(true);

    const again = await request(`${w.chart}?format=png&width=800&height=450&scale=1`, {
      headers: w.user.auth,
    });
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(bytes);
    expect(renderer.renderCount()).toBe(before + 1);
    const cached = await request(`${w.chart}?format=png&width=800&height=450&scale=1`, {
      headers: { ...w.user.auth, "If-None-Match": `"${graphId}"` },
    });
    expect(cached.status).toBe(304);

    const scaled = await request(`${w.chart}?width=400&height=300&scale=2`, { headers: w.user.auth });
    expect(pngSize(new Uint8Array(await scaled.arrayBuffer()))).toEqual({ width: 800, height: 600 });
    const byDefault = await request(w.chart, { headers: w.user.auth });
    expect(byDefault.headers.get("x-graph-id")).toBe(w.summary.chartId);
  });

  test("the title is drawn: SVG carries 売上推移, and the PNG differs from an untitled chart", async () => {
    const titled = await chartWorld("売上推移");
    const svg = await request(`${titled.chart}?format=svg`, { headers: titled.user.auth });
    expect(svg.headers.get("content-type")).toContain("image/svg+xml");
    expect(await svg.text()).toContain("売上推移");
    const untitled = await chartWorld("");
    const a = new Uint8Array(
      await (await request(titled.chart, { headers: titled.user.auth })).arrayBuffer(),
    );
    const b = new Uint8Array(
      await (await request(untitled.chart, { headers: untitled.user.auth })).arrayBuffer(),
    );
    expect(a.length).toBeGreaterThan(1000);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  test("plotly and vegalite formats; the figure equals the step's resultChart", async () => {
    const w = await chartWorld();
    const fig = await json(await request(`${w.chart}?format=plotly`, { headers: w.user.auth }));
    expect(fig).toEqual(w.summary.resultChart);
    expect(fig.data[0].y).toEqual([1500, 1800]);
    const spec = await json(
      await request(`${w.chart}?format=vegalite&width=600&height=400`, { headers: w.user.auth }),
    );
    expect(spec.$schema).toContain("vega-lite");
  });

  test("an older snapshot's step still renders; errors: not a chart, unknown step, bad size, invalid step, other project", async () => {
    const w = await chartWorld();
    const saved = await request(`${w.sbase}/snapshot`, jsonInit("POST", { name: "保存" }, w.user.auth));
    expect(saved.status).toBe(201);
    const old = await request(`${w.chart}?format=svg`, { headers: w.user.auth });
    expect(old.status).toBe(200);

    const notChart = await json(await request(`${w.sbase}/step/${w.agg.id}/chart`, { headers: w.user.auth }));
    expect(notChart.code).toBe("CHART_NOT_AVAILABLE");
    const unknown = await request(`${w.sbase}/step/${crypto.randomUUID()}/chart`, { headers: w.user.auth });
    expect((await json(unknown)).code).toBe("STEP_NOT_FOUND");
    const tooSmall = await request(`${w.chart}?width=100`, { headers: w.user.auth });
    expect(tooSmall.status).toBe(422);
    expect((await json(await request(`${w.chart}?format=gif`, { headers: w.user.auth }))).code).toBe(
      "VALIDATION_FAILED",
    );

    const detail = await json(await request(w.sbase, { headers: w.user.auth }));
    const current = detail.snapshotList.find((s: any) => s.order === detail.currentSnapshot);
    const agg = current.step.find((s: any) => s.stepKey === w.agg.stepKey);
    const summary = current.step.find((s: any) => s.stepKey === w.summary.stepKey);
    await request(
      `${w.sbase}/step/${agg.id}`,
      jsonInit(
        "PUT",
        {
          config: {
            groupByAxis: ["年度"],
            aggregationConfig: [{ name: "売上総額", method: "sum", subject: "売上" }],
          },
        },
        w.user.auth,
      ),
    );
    const blocked = await request(`${w.sbase}/step/${summary.id}/chart`, { headers: w.user.auth });
    expect(blocked.status).toBe(422);
    expect((await json(blocked)).code).toBe("STEP_CONFIG_INVALID");

    const stranger = await signIn(request, deps.config.secretKey);
    const other = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "他", code: `O-${stranger.id.slice(-10)}` }, stranger.auth),
      ),
    );
    const cross = await request(
      `/api/v1/project/${other.id}/analysis/session/${w.sessionId}/step/${w.summary.id}/chart`,
      { headers: stranger.auth },
    );
    expect((await json(cross)).code).toBe("SESSION_NOT_FOUND");
    const outsider = await request(w.chart, { headers: stranger.auth });
    expect(outsider.status).toBe(404);
  });

  test("deleting the session removes its analysis/{sid}/ objects", async () => {
    const w = await chartWorld();
    const res = await request(w.chart, { headers: w.user.auth });
    const key = graphKey(w.sessionId, res.headers.get("x-graph-id")!);
    expect(await deps.storage.exists("analysis", key)).toBe(true);
    expect((await request(w.sbase, { method: "DELETE", headers: w.user.auth })).status).toBe(204);
    expect(await deps.storage.exists("analysis", key)).toBe(false);
  });
});
