import { describe, expect, test } from "bun:test";
import ExcelJS from "exceljs";
import type { Database } from "@/db/client";
import { analysisIssueMaster, analysisValidationMaster } from "@/db/schema";
import { snapshotKey } from "@/lib/storage";
import { exportSession, exportTimestamp, sheetName } from "@/modules/analysis-session/export";
import { testApp } from "./helpers/context";
import { PNG_BYTES, uploadForm, xlsxBytes } from "./helpers/files";
import { json } from "./helpers/http";
import { jsonInit } from "./helpers/users";
import { world as baseWorld } from "./helpers/world";

/* analysis.md §2.7 export on scenario 11 (fixture F2), scenario 33. */

async function seedIssue(db: Database) {
  const [theme] = await db
    .insert(analysisValidationMaster)
    .values({ id: crypto.randomUUID(), name: `撤退 ${crypto.randomUUID().slice(0, 8)}`, validationOrder: 1 })
    .returning();
  const [issue] = await db
    .insert(analysisIssueMaster)
    .values({
      id: crypto.randomUUID(),
      validationId: theme.id,
      name: "赤字製品の撤退",
      agentPrompt: "## 目的\n赤字製品の特定",
      initialMsg: "- 科目を選んでください",
      issueOrder: 1,
    })
    .returning();
  return issue;
}

/* Fixture F2 of analysis.md §8 in the §1.4 layout. */
const f2 = () =>
  xlsxBytes({
    Sheet1: [["製品", "A", "B", "C", "D"], [], ["売上高", 100, 200, 150, 50], ["利益", 10, -20, 30, -5]],
  });

const SESSION_NAME = "不採算製品の分析";
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

describe("analysis session export", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const secret = deps.config.secretKey;
  const issue = await seedIssue(db);

  async function world() {
    const {
      project,
      users: { manager, viewer, outsider },
    } = await baseWorld(request, secret, { viewer: "viewer" }, "出力");
    const upload = async (name: string, bytes: Uint8Array | string) =>
      json(
        await request(`/api/v1/project/${project.id}/file`, {
          method: "POST",
          body: uploadForm(name, bytes),
          headers: manager.auth,
        }),
      );
    const base = `/api/v1/project/${project.id}/analysis/session`;
    const newSession = async (name: string) => {
      const s = await json(await request(base, jsonInit("POST", { issueId: issue.id, name }, manager.auth)));
      return `${base}/${s.id}`;
    };
    return { project, manager, viewer, outsider, upload, newSession };
  }

  async function selectInput(
    sbase: string,
    auth: Record<string, string>,
    projectFileId: string,
    sheetName: string,
    axisConfig: Record<string, string>,
  ) {
    const af = await json(await request(`${sbase}/file`, jsonInit("POST", { projectFileId }, auth)));
    const parsed = await request(
      `${sbase}/file/${af.id}`,
      jsonInit("PATCH", { sheetName, axisConfig }, auth),
    );
    expect(parsed.status).toBe(200);
    const put = await request(sbase, jsonInit("PUT", { inputFileId: af.id }, auth));
    expect(put.status).toBe(200);
  }

  async function addStep(sbase: string, auth: Record<string, string>, body: object) {
    const res = await request(`${sbase}/step`, jsonInit("POST", body, auth));
    expect(res.status).toBe(201);
    const step = await json(res);
    expect(step.status).toBe("ok");
    return step;
  }

  /* Scenario 11: s0 summary with a scatter, s1 loss rows, s2 profitable products, s3/s4 sums. */
  async function scenario11() {
    const w = await world();
    const pf = await w.upload("products.xlsx", await f2());
    const sbase = await w.newSession(SESSION_NAME);
    const auth = w.manager.auth;
    await selectInput(sbase, auth, pf.id, "Sheet1", { a: "製品" });
    const s0 = await addStep(sbase, auth, {
      name: "全体",
      type: "summary",
      input: "original",
      config: {
        formulas: [
          { name: "利益合計", method: "sum", subject: "利益", unit: "円" },
          { name: "売上高合計", method: "sum", subject: "売上高", unit: "円" },
        ],
        chartConfig: { graphType: "scatter", xSubject: "売上高", ySubject: "利益", title: "散布" },
      },
    });
    const s1 = await addStep(sbase, auth, {
      name: "赤字行",
      type: "filter",
      input: "original",
      config: {
        categoryFilter: { 科目: ["利益"] },
        numericFilter: { filterType: "range", max: 0, maxInclusive: false },
      },
    });
    const s2 = await addStep(sbase, auth, {
      name: "黒字製品",
      type: "filter",
      input: "original",
      config: { tableFilter: { sourceStepKey: s1.stepKey, keyColumns: ["製品"], mode: "exclude" } },
    });
    const s3 = await addStep(sbase, auth, {
      name: "黒字の合計",
      type: "summary",
      input: s2.stepKey,
      config: {
        formulas: [
          { name: "利益", method: "sum", subject: "利益", unit: "円" },
          { name: "売上高", method: "sum", subject: "売上高", unit: "円" },
        ],
      },
    });
    const s4 = await addStep(sbase, auth, {
      name: "赤字の合計",
      type: "summary",
      input: s1.stepKey,
      config: {
        formulas: [
          { name: "撤退効果", method: "sum", subject: "利益", unit: "円", portion: -1 },
          { name: "赤字製品数", method: "count", subject: "利益", unit: "個" },
        ],
        tableConfig: { showSourceData: true, tableName: "赤字製品" },
      },
    });
    return { ...w, sbase, steps: [s0, s1, s2, s3, s4] };
  }

  const loadBook = async (bytes: ArrayBuffer) => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes);
    return wb;
  };
  // Response.text() would drop the BOM the tests are checking for.
  const csvText = async (res: Response) =>
    new TextDecoder("utf-8", { ignoreBOM: true }).decode(await res.arrayBuffer());
  const sheetValues = (ws: ExcelJS.Worksheet) => {
    const out: unknown[][] = [];
    ws.eachRow({ includeEmpty: true }, (row) => {
      out.push((row.values as unknown[]).slice(1));
    });
    return out;
  };

  test("json: SessionDetail with results 40/250/25/2, archived to analysis/{sid}/snapshot_<ts>.json", async () => {
    const { sbase, manager } = await scenario11();
    const sid = sbase.split("/").at(-1)!;
    const before = Date.now();
    const res = await request(`${sbase}/export?format=json`, { headers: manager.auth });
    const after = Date.now();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const disposition = res.headers.get("content-disposition")!;
    expect(disposition).toStartWith("attachment; ");
    expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent(`${SESSION_NAME}.json`)}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get("content-length"))).toBe(bytes.byteLength);
    const detail = JSON.parse(new TextDecoder().decode(bytes));
    const current = detail.snapshotList.find((s: any) => s.order === detail.currentSnapshot);
    const values = (i: number) => current.step[i].resultFormula.map((f: any) => f.value);
    expect(values(3)).toEqual([40, 250]);
    expect(values(4)).toEqual([25, 2]);
    expect(current.step[2].resultData).toHaveLength(4);
    const get = await json(await request(sbase, { headers: manager.auth }));
    expect(detail).toEqual(get);

    // The archived object: the key carries the export time to the second.
    let stored: Uint8Array | null = null;
    for (let t = Math.floor(before / 1000); t <= Math.floor(after / 1000); t++) {
      const key = snapshotKey(sid, exportTimestamp(new Date(t * 1000)));
      expect(key).toMatch(/^analysis\/[0-9a-f-]+\/snapshot_\d{8}T\d{6}Z\.json$/);
      if (await deps.storage.exists("analysis", key)) {
        const obj = await deps.storage.get("analysis", key);
        stored = new Uint8Array(await new Response(obj.stream).arrayBuffer());
      }
    }
    expect(stored).not.toBeNull();
    expect(Buffer.from(stored!).equals(Buffer.from(bytes))).toBe(true);
  });

  test("xlsx: Summary, Steps, Chat, Data and S0…S4 with numeric cells and the summary tables", async () => {
    const { sbase, manager, steps } = await scenario11();
    const res = await request(`${sbase}/export?format=xlsx`, { headers: manager.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(XLSX);
    expect(res.headers.get("content-disposition")).toContain(
      `filename*=UTF-8''${encodeURIComponent(`${SESSION_NAME}.xlsx`)}`,
    );
    const buf = await res.arrayBuffer();
    expect(Number(res.headers.get("content-length"))).toBe(buf.byteLength);
    const wb = await loadBook(buf);
    expect(wb.worksheets.map((w) => w.name)).toEqual([
      "Summary",
      "Steps",
      "Chat",
      "Data",
      "S0_全体",
      "S1_赤字行",
      "S2_黒字製品",
      "S3_黒字の合計",
      "S4_赤字の合計",
    ]);
    const summary = Object.fromEntries(sheetValues(wb.getWorksheet("Summary")!).map((r) => [r[0], r[1]]));
    expect(summary).toMatchObject({
      Session: SESSION_NAME,
      Issue: "赤字製品の撤退",
      Input: "products.xlsx",
      "Current snapshot": 0,
      "Input rows": 8,
    });
    expect(String(summary["Exported at"])).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const stepRows = sheetValues(wb.getWorksheet("Steps")!);
    expect(stepRows[0]).toEqual(["order", "stepKey", "name", "type", "input", "status", "config", "error"]);
    expect(stepRows.slice(1).map((r) => [r[0], r[1], r[2], r[3], r[5]])).toEqual(
      steps.map((s, i) => [i, s.stepKey, s.name, s.type, "ok"]),
    );
    expect(JSON.parse(String(stepRows[3][6]))).toEqual(steps[2].config);
    const chat = sheetValues(wb.getWorksheet("Chat")!);
    expect(chat[0]).toEqual(["order", "role", "message"]);
    expect(chat.slice(1).map((r) => r[1])).toEqual(["system", "assistant"]);
    // The opening message starts with "-": neutralised like any other text cell.
    expect(chat[2][2]).toBe("'- 科目を選んでください");
    const data = sheetValues(wb.getWorksheet("Data")!);
    expect(data[0]).toEqual(["製品", "科目", "値"]);
    expect(data).toHaveLength(9);
    expect(data.slice(1).find((r) => r[0] === "B" && r[1] === "利益")![2]).toBe(-20);
    const s2 = sheetValues(wb.getWorksheet("S2_黒字製品")!);
    expect(s2).toHaveLength(5);
    expect(new Set(s2.slice(1).map((r) => r[0]))).toEqual(new Set(["A", "C"]));
    expect(s2.slice(1).every((r) => typeof r[2] === "number")).toBe(true);
    expect(sheetValues(wb.getWorksheet("S1_赤字行")!).slice(1)).toEqual([
      ["B", "利益", -20],
      ["D", "利益", -5],
    ]);
    expect(sheetValues(wb.getWorksheet("S3_黒字の合計")!)).toEqual([
      ["name", "value", "unit", "display"],
      ["利益", 40, "円", "40円"],
      ["売上高", 250, "円", "250円"],
    ]);
    const s4 = sheetValues(wb.getWorksheet("S4_赤字の合計")!);
    expect(s4.slice(0, 3)).toEqual([
      ["name", "value", "unit", "display"],
      ["撤退効果", 25, "円", "25円"],
      ["赤字製品数", 2, "個", "2個"],
    ]);
    expect(s4[4]).toEqual(["赤字製品"]);
    expect(s4.slice(5)).toEqual([
      ["製品", "科目", "値"],
      ["B", "利益", -20],
      ["D", "利益", -5],
    ]);
    const s0 = sheetValues(wb.getWorksheet("S0_全体")!);
    expect(s0.slice(1).map((r) => r[1])).toEqual([15, 500]);
    // Through HTTP the app's renderer embeds the scatter chart as a real 1600×900 PNG.
    const pictures = wb.worksheets.map((w) => [w.name, w.getImages().length]).filter(([, n]) => n !== 0);
    expect(pictures).toEqual([["S0_全体", 1]]);
    const png = wb.getImage(Number(wb.getWorksheet("S0_全体")!.getImages()[0].imageId));
    const bytes = new Uint8Array(png.buffer as unknown as Uint8Array);
    expect([...bytes.slice(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect([view.getUint32(16), view.getUint32(20)]).toEqual([1600, 900]);
  });

  test("xlsx with a renderer: one embedded PNG on the S0 sheet, rendered from the chart model", async () => {
    const { sbase, project } = await scenario11();
    const models: unknown[] = [];
    const out = await exportSession(
      {
        db,
        storage: deps.storage,
        actor: { userId: null, email: null, ip: null, userAgent: null, requestId: null },
        caches: deps.analysisCaches,
      },
      project.id,
      sbase.split("/").at(-1)!,
      { format: "xlsx" },
      async (model, size) => {
        models.push({ model, size });
        return PNG_BYTES;
      },
    );
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ model: { type: "scatter", title: "散布" }, size: { width: 800 } });
    const wb = await loadBook(new Uint8Array(out.body as Uint8Array).buffer as ArrayBuffer);
    const images = wb.worksheets.map((w) => [w.name, w.getImages().length]);
    expect(images.filter(([, n]) => n !== 0)).toEqual([["S0_全体", 1]]);
    const media = wb.getImage(Number(wb.getWorksheet("S0_全体")!.getImages()[0].imageId));
    expect(Buffer.from(media.buffer as unknown as Uint8Array).equals(Buffer.from(PNG_BYTES))).toBe(true);
  });

  test("csv: the named step's rows with BOM, header and CRLF; the default is the last dataset step", async () => {
    const { sbase, viewer, steps } = await scenario11();
    const res = await request(`${sbase}/export?format=csv&stepId=${steps[2].id}`, { headers: viewer.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toContain(
      `filename*=UTF-8''${encodeURIComponent(`${SESSION_NAME}_S2_黒字製品.csv`)}`,
    );
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get("content-length"))).toBe(bytes.byteLength);
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
    expect(text.endsWith("\r\n")).toBe(true);
    expect(text.replace(/\r\n/g, "")).not.toContain("\n");
    const lines = text.slice(1).split("\r\n").slice(0, -1);
    expect(lines[0]).toBe("製品,科目,値");
    expect(lines).toHaveLength(5);
    expect(lines.slice(1).sort()).toEqual(["A,利益,10", "A,売上高,100", "C,利益,30", "C,売上高,150"]);
    // Default: s2 is the last filter/aggregate/transform step.
    const byDefault = await request(`${sbase}/export?format=csv`, { headers: viewer.auth });
    expect(await csvText(byDefault)).toBe(text);
    // A summary with a shown source table exports that table; one without → 422.
    const s4 = await request(`${sbase}/export?format=csv&stepId=${steps[4].id}`, { headers: viewer.auth });
    expect((await csvText(s4)).split("\r\n").slice(1, 3)).toEqual(["B,利益,-20", "D,利益,-5"]);
    const s3 = await request(`${sbase}/export?format=csv&stepId=${steps[3].id}`, { headers: viewer.auth });
    expect(s3.status).toBe(422);
  });

  test("text cells that start with = + - @ are prefixed with ' in csv and xlsx; numbers stay numbers", async () => {
    const w = await world();
    const pf = await w.upload(
      "inject.csv",
      '製品,科目,値\n=cmd,利益,10\n+SUM(A1),利益,-5\n@x,利益,3\n"a,b",利益,1\n',
    );
    const sbase = await w.newSession("inject");
    await selectInput(sbase, w.manager.auth, pf.id, "CSV", { a: "製品" });
    await addStep(sbase, w.manager.auth, { name: "all", type: "filter", input: "original", config: {} });
    const csv = await csvText(await request(`${sbase}/export?format=csv`, { headers: w.manager.auth }));
    expect(csv[0]).toBe("\uFEFF");
    expect(csv.slice(1).split("\r\n")).toEqual([
      "製品,科目,値",
      "'=cmd,利益,10",
      "'+SUM(A1),利益,-5",
      "'@x,利益,3",
      '"a,b",利益,1',
      "",
    ]);
    const wb = await loadBook(
      await (await request(`${sbase}/export?format=xlsx`, { headers: w.manager.auth })).arrayBuffer(),
    );
    for (const name of ["Data", "S0_all"]) {
      const rows = sheetValues(wb.getWorksheet(name)!);
      expect(rows.slice(1).map((r) => r[0])).toEqual(["'=cmd", "'+SUM(A1)", "'@x", "a,b"]);
      expect(rows.slice(1).map((r) => r[2])).toEqual([10, -5, 3, 1]);
      const cell = wb.getWorksheet(name)!.getCell("A2");
      expect(cell.type).toBe(ExcelJS.ValueType.String);
    }
  });

  test("access and errors: viewer 200, non-member 404, unknown or foreign stepId 404, no input 422", async () => {
    const { sbase, viewer, outsider, manager, newSession, steps } = await scenario11();
    expect((await request(`${sbase}/export?format=xlsx`, { headers: viewer.auth })).status).toBe(200);
    expect((await request(`${sbase}/export?format=json`, { headers: viewer.auth })).status).toBe(200);
    expect((await request(`${sbase}/export?format=json`, { headers: outsider.auth })).status).toBe(404);
    const unknown = await request(`${sbase}/export?format=csv&stepId=${crypto.randomUUID()}`, {
      headers: viewer.auth,
    });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).code).toBe("STEP_NOT_FOUND");
    const bare = await newSession("空");
    const noInput = await request(`${bare}/export?format=xlsx`, { headers: manager.auth });
    expect(noInput.status).toBe(422);
    expect((await json(noInput)).code).toBe("INPUT_FILE_REQUIRED");
    // A step of another session (here: the source of a copy) is not found in this one.
    const copy = await json(await request(`${sbase}/duplicate`, jsonInit("POST", {}, manager.auth)));
    const cbase = sbase.replace(/[^/]+$/, copy.id);
    const fromSource = await request(`${cbase}/export?format=csv&stepId=${steps[2].id}`, {
      headers: manager.auth,
    });
    expect((await json(fromSource)).code).toBe("STEP_NOT_FOUND");
    // A step of an older snapshot is not in the current one.
    await request(`${sbase}/snapshot`, jsonInit("POST", {}, manager.auth));
    const older = await request(`${sbase}/export?format=json&stepId=${steps[2].id}`, {
      headers: manager.auth,
    });
    expect((await json(older)).code).toBe("STEP_NOT_FOUND");
    const missing = await request(`${sbase.replace(/[^/]+$/, crypto.randomUUID())}/export?format=json`, {
      headers: manager.auth,
    });
    expect((await json(missing)).code).toBe("SESSION_NOT_FOUND");
    const badFormat = await request(`${sbase}/export?format=pdf`, { headers: manager.auth });
    expect(badFormat.status).toBe(422);
    expect((await request(`${sbase}/export`, { headers: manager.auth })).status).toBe(422);
  });

  test("large exports stream: csv without Content-Length, xlsx through the streaming writer", async () => {
    const w = await world();
    const n = 30_000;
    let body = "製品,科目,値\n";
    for (let i = 0; i < n; i++) body += `P${i},${i % 2 ? "利益" : "売上高"},${i}\n`;
    const pf = await w.upload("big.csv", body);
    const sbase = await w.newSession("big");
    await selectInput(sbase, w.manager.auth, pf.id, "CSV", { a: "製品" });
    await addStep(sbase, w.manager.auth, { name: "all", type: "filter", input: "original", config: {} });
    const csv = await request(`${sbase}/export?format=csv`, { headers: w.manager.auth });
    expect(csv.headers.get("content-length")).toBeNull();
    const lines = (await csvText(csv)).split("\r\n");
    expect(lines[0]).toBe("\uFEFF製品,科目,値");
    expect(lines).toHaveLength(n + 2);
    expect(lines[n]).toBe(`P${n - 1},利益,${n - 1}`);
    const xlsx = await request(`${sbase}/export?format=xlsx`, { headers: w.manager.auth });
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get("content-length")).toBeNull();
    const wb = await loadBook(await xlsx.arrayBuffer());
    expect(wb.worksheets.map((x) => x.name)).toEqual(["Summary", "Steps", "Chat", "Data", "S0_all"]);
    expect(wb.getWorksheet("Data")!.rowCount).toBe(n + 1);
    expect(wb.getWorksheet("S0_all")!.getCell(`C${n + 1}`).value).toBe(n - 1);
  }, 60_000);
});

describe("export helpers", () => {
  test("sheet names: Excel-safe characters, at most 31 characters, unique", () => {
    const taken = new Set<string>(["summary"]);
    expect(sheetName(0, "a/b:c*d?e[f]g\\h", taken)).toBe("S0_a_b_c_d_e_f_g_h");
    const long = sheetName(12, "とても長いステップの名前".repeat(4), taken);
    expect(long.length).toBeLessThanOrEqual(31);
    expect(long.startsWith("S12_とても")).toBe(true);
    const again = sheetName(12, "とても長いステップの名前".repeat(4), taken);
    expect(again).not.toBe(long);
    expect(again.length).toBeLessThanOrEqual(31);
    expect(sheetName(3, "😀".repeat(20), new Set()).length).toBeLessThanOrEqual(31);
    expect(sheetName(4, "x'", new Set())).toBe("S4_x");
  });

  test("export timestamp is YYYYMMDDTHHMMSSZ", () => {
    expect(exportTimestamp(new Date("2025-03-04T05:06:07.890Z"))).toBe("20250304T050607Z");
  });
});
