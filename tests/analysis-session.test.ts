import { describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import {
  analysisDummyChartMaster,
  analysisDummyFormulaMaster,
  analysisGraphAxisMaster,
  analysisIssueMaster,
  analysisValidationMaster,
  auditLog,
} from "@/db/schema";
import { testApp } from "./helpers/context";
import { PNG_BYTES, uploadForm, xlsxBytes } from "./helpers/files";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";
import { world as baseWorld } from "./helpers/world";

/* A theme with two issues (one archived), pickers and previews, written straight to the masters. */
async function seedCatalogue(db: Database) {
  const tag = crypto.randomUUID().slice(0, 8);
  const [theme] = await db
    .insert(analysisValidationMaster)
    .values({ id: crypto.randomUUID(), name: `不採算製品からの撤退 ${tag}`, validationOrder: 1 })
    .returning();
  const [issue] = await db
    .insert(analysisIssueMaster)
    .values({
      id: crypto.randomUUID(),
      validationId: theme.id,
      name: "赤字製品から撤退すると利益はどれだけ改善するか",
      description: "製品別の利益から赤字製品を特定します。",
      agentPrompt: "## 目的\n赤字製品の特定\n## 標準フロー\n1. summary",
      initialMsg: "横軸と縦軸に使う科目を選んでください。",
      dummyInput: [{ 製品: "A", 科目: "売上高", 値: 100 }],
      issueOrder: 2,
    })
    .returning();
  const [archivedIssue] = await db
    .insert(analysisIssueMaster)
    .values({
      id: crypto.randomUUID(),
      validationId: theme.id,
      name: "古い課題",
      agentPrompt: "old",
      issueOrder: 1,
      isActive: false,
      archivedAt: new Date(),
    })
    .returning();
  await db.insert(analysisGraphAxisMaster).values([
    { id: crypto.randomUUID(), issueId: issue.id, name: "縦軸の科目", option: "subject", axisOrder: 2 },
    { id: crypto.randomUUID(), issueId: issue.id, name: "横軸の科目", option: "subject", axisOrder: 1 },
  ]);
  await db
    .insert(analysisDummyFormulaMaster)
    .values({ id: crypto.randomUUID(), issueId: issue.id, name: "利益合計", value: "2,880,000円" });
  await db.insert(analysisDummyChartMaster).values({
    id: crypto.randomUUID(),
    issueId: issue.id,
    chart: { data: [{ type: "scatter" }], layout: {} },
  });
  return { theme, issue, archivedIssue };
}

describe("analysis catalogue and sessions", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const secret = deps.config.secretKey;
  const catalogue = await seedCatalogue(db);

  async function world() {
    const { project, users } = await baseWorld(
      request,
      secret,
      { member: "member", viewer: "viewer", other: "member" },
      "分析",
    );
    return { project, users, base: `/api/v1/project/${project.id}/analysis` };
  }

  test("catalogue: active issues of active themes in order; detail with ordered pickers and previews", async () => {
    const { users, base } = await world();
    const list = await json(
      await request(`${base}/template?validationId=${catalogue.theme.id}`, { headers: users.viewer.auth }),
    );
    expect(list.items.map((i: any) => i.issueId)).toEqual([catalogue.issue.id]);
    const detail = await json(
      await request(`${base}/template/${catalogue.issue.id}`, { headers: users.viewer.auth }),
    );
    expect(detail.initialAxis.map((a: any) => a.name)).toEqual(["横軸の科目", "縦軸の科目"]);
    expect(detail.dummyFormula[0].value).toBe("2,880,000円");
    expect(detail.initialMessage).toBe("横軸と縦軸に使う科目を選んでください。");
    const gone = await request(`${base}/template/${catalogue.archivedIssue.id}`, {
      headers: users.viewer.auth,
    });
    expect((await json(gone)).code).toBe("ISSUE_NOT_FOUND");
  });

  test("create: snapshot 0 with the recipe and the opening message, default name, audit row", async () => {
    const { users, base } = await world();
    const res = await request(
      `${base}/session`,
      jsonInit("POST", { issueId: catalogue.issue.id }, users.member.auth),
    );
    expect(res.status).toBe(201);
    const s = await json(res);
    expect(s).toMatchObject({ status: "draft", currentSnapshot: 0, snapshotCount: 1, inputFileId: null });
    expect(s.name).toBe(`${catalogue.issue.name} ${new Date().toISOString().slice(0, 10)}`);
    expect(s.validationName).toBe(catalogue.theme.name);
    expect(s.snapshotList).toHaveLength(1);
    expect(s.snapshotList[0]).toMatchObject({ order: 0, trigger: "create" });
    expect(s.snapshotList[0].chat.map((c: any) => [c.order, c.role])).toEqual([
      [0, "system"],
      [1, "assistant"],
    ]);
    expect(s.snapshotList[0].chat[0].message).toContain("## 目的");
    const custom = await json(
      await request(
        `${base}/session`,
        jsonInit(
          "POST",
          {
            issueId: catalogue.issue.id,
            name: " 分析A ",
            initialMessage: "自由に質問してください",
            customSystemPrompt: "丁寧に",
          },
          users.member.auth,
        ),
      ),
    );
    expect(custom.name).toBe("分析A");
    expect(custom.customSystemPrompt).toBe("丁寧に");
    expect(custom.snapshotList[0].chat[1].message).toBe("自由に質問してください");
    const audit = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceId, s.id), eq(auditLog.action, "CREATE")));
    expect(audit[0].userId).toBe(users.member.id);
  });

  test("create errors: viewer 403, unknown issue 404, archived issue 409 MASTER_ARCHIVED", async () => {
    const { users, base } = await world();
    const viewer = await request(
      `${base}/session`,
      jsonInit("POST", { issueId: catalogue.issue.id }, users.viewer.auth),
    );
    expect((await json(viewer)).code).toBe("ROLE_INSUFFICIENT");
    const unknown = await request(
      `${base}/session`,
      jsonInit("POST", { issueId: crypto.randomUUID() }, users.member.auth),
    );
    expect((await json(unknown)).code).toBe("ISSUE_NOT_FOUND");
    const archived = await request(
      `${base}/session`,
      jsonInit("POST", { issueId: catalogue.archivedIssue.id }, users.member.auth),
    );
    expect(archived.status).toBe(409);
    expect((await json(archived)).code).toBe("MASTER_ARCHIVED");
  });

  test("status rules, ownership and listing", async () => {
    const { users, base } = await world();
    const s = await json(
      await request(
        `${base}/session`,
        jsonInit("POST", { issueId: catalogue.issue.id, name: "B" }, users.member.auth),
      ),
    );
    const path = `${base}/session/${s.id}`;
    expect((await json(await request(path, jsonInit("PATCH", { name: "x" }, users.other.auth)))).code).toBe(
      "NOT_OWNER",
    );
    expect((await request(path, jsonInit("PATCH", { status: "draft" }, users.member.auth))).status).toBe(422);
    const done = await json(
      await request(path, jsonInit("PATCH", { status: "completed" }, users.member.auth)),
    );
    expect(done.status).toBe("completed");
    expect(done.completedAt).not.toBeNull();
    // An absent optional field must stay absent (not defaulted to an enum's first member).
    const renamed = await json(await request(path, jsonInit("PATCH", { name: "B" }, users.member.auth)));
    expect(renamed.status).toBe("completed");
    await request(path, jsonInit("PATCH", { status: "archived" }, users.manager.auth));
    const locked = await request(path, jsonInit("PATCH", { name: "renamed" }, users.member.auth));
    expect((await json(locked)).code).toBe("SESSION_ARCHIVED");
    // Re-opening a session that never had an input brings it back to draft.
    const reopened = await json(
      await request(path, jsonInit("PATCH", { status: "active" }, users.member.auth)),
    );
    expect(reopened.status).toBe("draft");
    expect(reopened.completedAt).toBeNull();
    await request(
      `${base}/session`,
      jsonInit("POST", { issueId: catalogue.issue.id, name: "A" }, users.other.auth),
    );
    const list = await json(await request(`${base}/session?sort=name`, { headers: users.viewer.auth }));
    expect(list.items.map((i: any) => i.name)).toEqual(["A", "B"]);
    const mine = await json(
      await request(`${base}/session?creatorId=${users.other.id}`, { headers: users.viewer.auth }),
    );
    expect(mine.total).toBe(1);
  });

  test("delete: creator or manager; a session of project Q under project P answers 404", async () => {
    const p = await world();
    const q = await world();
    const s = await json(
      await request(
        `${q.base}/session`,
        jsonInit("POST", { issueId: catalogue.issue.id }, q.users.member.auth),
      ),
    );
    const cross = await request(`${p.base}/session/${s.id}`, { headers: p.users.manager.auth });
    expect((await json(cross)).code).toBe("SESSION_NOT_FOUND");
    expect(
      (await request(`${p.base}/session/${s.id}`, { method: "DELETE", headers: p.users.manager.auth }))
        .status,
    ).toBe(404);
    expect(
      (await request(`${q.base}/session/${s.id}`, { method: "DELETE", headers: q.users.other.auth })).status,
    ).toBe(403);
    expect(
      (await request(`${q.base}/session/${s.id}`, { method: "DELETE", headers: q.users.manager.auth }))
        .status,
    ).toBe(204);
    expect((await request(`${q.base}/session/${s.id}`, { headers: q.users.viewer.auth })).status).toBe(404);
    const proj = await json(
      await request(`/api/v1/project/${q.project.id}`, { headers: q.users.viewer.auth }),
    );
    expect(proj.stats.sessionCount).toBe(0);
  });
});

describe("analysis files and input selection", async () => {
  const { request, deps } = await testApp();
  const secret = deps.config.secretKey;
  const { issue } = await seedCatalogue(deps.database.db);

  /* Fixture F1 of analysis.md §8: two header rows, a separator, two subject rows. */
  const f1 = () =>
    xlsxBytes({
      Sheet1: [
        ["年度", 2023, 2023, 2024, 2024],
        ["部門", "営業", "開発", "営業", "開発"],
        [],
        ["売上", 1000, 500, 1200, 600],
        ["コスト", 800, 400, 900, 450],
      ],
    });

  /* Register F1, parse it with the given axes and select it as the session's input. */
  async function selectF1Input(
    sbase: string,
    auth: Record<string, string>,
    projectFileId: string,
    axisConfig: Record<string, string>,
  ) {
    const af = await json(await request(`${sbase}/file`, jsonInit("POST", { projectFileId }, auth)));
    await request(`${sbase}/file/${af.id}`, jsonInit("PATCH", { sheetName: "Sheet1", axisConfig }, auth));
    await request(sbase, jsonInit("PUT", { inputFileId: af.id }, auth));
    return af;
  }

  async function sessionWithFile() {
    const u = await signIn(request, secret);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "F", code: `AF-${u.id.slice(-10)}` }, u.auth),
      ),
    );
    const upload = async (name: string, bytes: Uint8Array | string) =>
      json(
        await request(`/api/v1/project/${project.id}/file`, {
          method: "POST",
          body: uploadForm(name, bytes),
          headers: u.auth,
        }),
      );
    const pf = await upload("F1.xlsx", await f1());
    const base = `/api/v1/project/${project.id}/analysis/session`;
    const s = await json(await request(base, jsonInit("POST", { issueId: issue.id }, u.auth)));
    return { u, project, pf, upload, sbase: `${base}/${s.id}`, session: s };
  }

  test("register → configList; PATCH sheet and axes → 8 long-format records; errors list the choices", async () => {
    const { u, pf, sbase } = await sessionWithFile();
    const reg = await request(`${sbase}/file`, jsonInit("POST", { projectFileId: pf.id }, u.auth));
    expect(reg.status).toBe(201);
    const af = await json(reg);
    expect(af.configList).toEqual([
      expect.objectContaining({ sheetName: "Sheet1", axis: ["年度", "部門"], shape: "hierarchical" }),
    ]);
    const dup = await request(`${sbase}/file`, jsonInit("POST", { projectFileId: pf.id }, u.auth));
    expect((await json(dup)).code).toBe("ANALYSIS_FILE_DUPLICATE");
    const patched = await json(
      await request(
        `${sbase}/file/${af.id}`,
        jsonInit("PATCH", { sheetName: "Sheet1", axisConfig: { a: "年度", b: "部門" } }, u.auth),
      ),
    );
    expect(patched.rowCount).toBe(8);
    expect(Object.keys(patched.data[0])).toEqual(["年度", "部門", "科目", "値"]);
    expect(patched.data[0]).toEqual({ 年度: "2023", 部門: "営業", 科目: "売上", 値: 1000 });
    expect(patched.data[4]).toMatchObject({ 科目: "コスト", 値: 800 });
    const badSheet = await json(
      await request(
        `${sbase}/file/${af.id}`,
        jsonInit("PATCH", { sheetName: "Nope", axisConfig: { a: "年度" } }, u.auth),
      ),
    );
    expect(badSheet.code).toBe("UNKNOWN_SHEET");
    expect(badSheet.availableSheets).toEqual(["Sheet1"]);
    const badAxis = await json(
      await request(
        `${sbase}/file/${af.id}`,
        jsonInit("PATCH", { sheetName: "Sheet1", axisConfig: { a: "地域" } }, u.auth),
      ),
    );
    expect(badAxis.code).toBe("UNKNOWN_AXIS");
    expect(badAxis.availableAxes).toEqual(["年度", "部門"]);
    const listed = await json(
      await request(`${sbase}/file?includeData=true&rowLimit=3`, { headers: u.auth }),
    );
    expect(listed.items[0].data).toHaveLength(3);
  });

  /* UTF-16 with a BOM, as Excel's "Unicode text" export writes it. */
  const utf16 = (text: string, order: "le" | "be") => {
    const out = new Uint8Array(2 + text.length * 2);
    out.set(order === "le" ? [0xff, 0xfe] : [0xfe, 0xff]);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      out[2 + i * 2 + (order === "le" ? 0 : 1)] = c & 0xff;
      out[2 + i * 2 + (order === "le" ? 1 : 0)] = c >> 8;
    }
    return out;
  };

  test("Excel Unicode text (UTF-16 with BOM, TAB-separated) uploads and registers with its values; addedBy is filled", async () => {
    const { u, upload, sbase } = await sessionWithFile();
    const text = "年度\t部門\t科目\t値\r\n2023\t営業\t売上\t1000\r\n2024\t開発\t売上\t600\r\n";
    for (const order of ["le", "be"] as const) {
      const bytes = utf16(text, order);
      const pf = await upload(`unicode-${order}.csv`, bytes);
      expect({ order, id: typeof pf.id, kind: pf.kind, size: pf.sizeBytes }).toEqual({
        order,
        id: "string",
        kind: "csv",
        size: bytes.length,
      });
      const reg = await request(`${sbase}/file`, jsonInit("POST", { projectFileId: pf.id }, u.auth));
      expect(reg.status).toBe(201);
      const af = await json(reg);
      expect(af.configList).toEqual([
        expect.objectContaining({ sheetName: "CSV", shape: "long", axis: ["年度", "部門"] }),
      ]);
      expect(af.addedBy).toEqual({ id: u.id, email: expect.any(String), displayName: expect.anything() });
      const parsed = await json(
        await request(
          `${sbase}/file/${af.id}`,
          jsonInit("PATCH", { sheetName: "CSV", axisConfig: { a: "年度", b: "部門" } }, u.auth),
        ),
      );
      expect(parsed.data).toEqual([
        { 年度: "2023", 部門: "営業", 科目: "売上", 値: 1000 },
        { 年度: "2024", 部門: "開発", 科目: "売上", 値: 600 },
      ]);
      expect(parsed.addedBy?.id).toBe(u.id);
    }
    const listed = await json(await request(`${sbase}/file`, { headers: u.auth }));
    expect(listed.items.map((f: any) => f.addedBy?.id)).toEqual([u.id, u.id]);
    const detail = await json(await request(sbase, { headers: u.auth }));
    expect(detail.fileList.map((f: any) => f.addedBy?.id)).toEqual([u.id, u.id]);
  });

  test("8-bit text in any encoding is a project file; registration refuses what it cannot decode", async () => {
    const { u, upload, sbase } = await sessionWithFile();
    // latin-1 "café" (E9 2C is neither UTF-8 nor Shift_JIS) and EUC-JP "売上" (C7 E4 BE E5).
    const latin1 = new Uint8Array([
      ...new TextEncoder().encode("Ville,Montant\r\ncaf"),
      0xe9,
      ...new TextEncoder().encode(",1\r\n"),
    ]);
    const eucJp = new Uint8Array([0xc7, 0xe4, 0xbe, 0xe5, 0x2c, 0x31, 0x0a]);
    const a = await upload("latin1.csv", latin1);
    const b = await upload("euc-jp.txt", eucJp);
    expect([a.kind, b.kind]).toEqual(["csv", "txt"]);
    const reg = await request(`${sbase}/file`, jsonInit("POST", { projectFileId: a.id }, u.auth));
    expect(reg.status).toBe(422);
    expect(JSON.stringify(await json(reg))).toContain("ENCODING_UNSUPPORTED");
    // Binary content under a text extension is still refused at upload.
    expect((await upload("nul.csv", new Uint8Array([0x61, 0x00, 0x62, 0x0a]))).code).toBe(
      "UNSUPPORTED_FILE_TYPE",
    );
  });

  test("a summary's resultTable is the source rows and `truncated` sits beside it (api.md §2.7)", async () => {
    const { u, pf, sbase } = await sessionWithFile();
    await selectF1Input(sbase, u.auth, pf.id, { a: "年度", b: "部門" });
    const created = await request(
      `${sbase}/step`,
      jsonInit(
        "POST",
        {
          name: "元データ表",
          type: "summary",
          input: "original",
          config: { formulas: [], tableConfig: { showSourceData: true, tableName: "元データ" } },
        },
        u.auth,
      ),
    );
    expect(created.status).toBe(201);
    const step = await json(created);
    expect(Array.isArray(step.resultTable)).toBe(true);
    expect(step.resultTable).toHaveLength(8);
    expect(step.resultTable[0]).toEqual({ 年度: "2023", 部門: "営業", 科目: "売上", 値: 1000 });
    expect(step.truncated).toBe(false);
    const results = await json(await request(`${sbase}/result`, { headers: u.auth }));
    expect(results.results[0].table).toEqual(step.resultTable);
  });

  test("input selection: unconfigured → 422; configured → active; the input cannot be removed; snapshot moves", async () => {
    const { u, pf, upload, sbase } = await sessionWithFile();
    const af = await json(await request(`${sbase}/file`, jsonInit("POST", { projectFileId: pf.id }, u.auth)));
    const early = await request(sbase, jsonInit("PUT", { inputFileId: af.id }, u.auth));
    expect((await json(early)).code).toBe("ANALYSIS_FILE_NOT_CONFIGURED");
    await request(
      `${sbase}/file/${af.id}`,
      jsonInit("PATCH", { sheetName: "Sheet1", axisConfig: { a: "年度" } }, u.auth),
    );
    const selected = await json(await request(sbase, jsonInit("PUT", { inputFileId: af.id }, u.auth)));
    expect(selected).toMatchObject({
      status: "active",
      inputFileId: af.id,
      inputFileName: "F1.xlsx",
      currentSnapshot: 0,
    });
    expect(selected.snapshotList[0].chat.map((c: any) => c.role)).toEqual(["system", "assistant"]);
    expect(
      (await json(await request(`${sbase}/file/${af.id}`, { method: "DELETE", headers: u.auth }))).code,
    ).toBe("ANALYSIS_FILE_IN_USE");
    expect((await json(await request(sbase, jsonInit("PUT", { currentSnapshot: 3 }, u.auth)))).code).toBe(
      "SNAPSHOT_NOT_FOUND",
    );
    expect((await request(sbase, jsonInit("PUT", {}, u.auth))).status).toBe(422);
    const png = await upload("img.png", PNG_BYTES);
    const notAnalysable = await request(`${sbase}/file`, jsonInit("POST", { projectFileId: png.id }, u.auth));
    expect((await json(notAnalysable)).code).toBe("FILE_NOT_ANALYSABLE");
    const csv = await upload("long.csv", "年度,部門,科目,値\n2023,営業,売上,1000\n");
    const second = await json(
      await request(`${sbase}/file`, jsonInit("POST", { projectFileId: csv.id }, u.auth)),
    );
    expect(second.configList[0]).toMatchObject({ sheetName: "CSV", shape: "long", axis: ["年度", "部門"] });
    expect((await request(`${sbase}/file/${second.id}`, { method: "DELETE", headers: u.auth })).status).toBe(
      204,
    );
  });

  test("steps: aggregate + summary over F1 with results; bad subject 422 lists subjects; dependants protected", async () => {
    const { u, pf, sbase } = await sessionWithFile();
    await selectF1Input(sbase, u.auth, pf.id, { a: "年度", b: "部門" });
    const aggregate = {
      name: "年度別集計",
      type: "aggregate",
      input: "original",
      config: {
        groupByAxis: ["年度"],
        aggregationConfig: [
          { name: "売上合計", method: "sum", subject: "売上" },
          { name: "コスト合計", method: "sum", subject: "コスト" },
          { name: "粗利", method: "-", operands: ["売上合計", "コスト合計"] },
        ],
      },
    };
    const created = await request(`${sbase}/step`, jsonInit("POST", aggregate, u.auth));
    expect(created.status).toBe(201);
    const agg = await json(created);
    expect(agg.status).toBe("ok");
    const rows = agg.resultData as Record<string, unknown>[];
    const value = (year: string, subject: string) =>
      rows.find((r) => r.年度 === year && r.科目 === subject)?.値;
    expect(value("2023", "売上合計")).toBe(1500);
    expect(value("2024", "粗利")).toBe(450);
    const bad = await request(
      `${sbase}/step`,
      jsonInit(
        "POST",
        {
          ...aggregate,
          name: "誤り",
          config: {
            groupByAxis: ["年度"],
            aggregationConfig: [{ name: "x", method: "sum", subject: "売り上げ" }],
          },
        },
        u.auth,
      ),
    );
    expect(bad.status).toBe(422);
    const badBody = await json(bad);
    expect(badBody.code).toBe("STEP_CONFIG_INVALID");
    expect(JSON.stringify(badBody)).toContain("売上");
    const summary = await json(
      await request(
        `${sbase}/step`,
        jsonInit(
          "POST",
          {
            name: "まとめ",
            type: "summary",
            input: agg.stepKey,
            config: { formulas: [{ name: "総粗利", method: "sum", subject: "粗利", unit: "円" }] },
          },
          u.auth,
        ),
      ),
    );
    expect(summary.resultFormula[0]).toMatchObject({ name: "総粗利", value: 750, unit: "円" });
    const unconfigured = await json(
      await request(
        `${sbase}/step`,
        jsonInit("POST", { name: "未設定", type: "filter", input: "original" }, u.auth),
      ),
    );
    expect(unconfigured.configured).toBe(false);
    const blocked = await request(`${sbase}/step/${agg.id}`, { method: "DELETE", headers: u.auth });
    expect(blocked.status).toBe(422);
    expect((await json(blocked)).code).toBe("STEP_NOT_DELETABLE");
    const edited = await json(
      await request(`${sbase}/step/${summary.id}`, jsonInit("PUT", { config: null }, u.auth)),
    );
    expect(edited.type).toBe("summary");
    expect(edited.configured).toBe(false);
    const detail = await json(await request(sbase, { headers: u.auth }));
    const current = detail.snapshotList.find((sn: any) => sn.order === detail.currentSnapshot);
    expect(current.step.map((st: any) => st.name)).toEqual(["年度別集計", "まとめ", "未設定"]);
    expect(current.step[0].resultData.length).toBe(6);
    expect((await request(`${sbase}/step/${summary.id}`, { method: "DELETE", headers: u.auth })).status).toBe(
      204,
    );
    expect(
      (await request(`${sbase}/step/${crypto.randomUUID()}`, { method: "DELETE", headers: u.auth })).status,
    ).toBe(404);
  });

  test("snapshots: manual save copies steps with the same keys; restore; delete rules; messages; /result", async () => {
    const { u, pf, sbase } = await sessionWithFile();
    const noInput = await request(`${sbase}/result`, { headers: u.auth });
    expect((await json(noInput)).code).toBe("INPUT_FILE_REQUIRED");
    await selectF1Input(sbase, u.auth, pf.id, { a: "年度" });
    const summary = await json(
      await request(
        `${sbase}/step`,
        jsonInit(
          "POST",
          {
            name: "合計",
            type: "summary",
            input: "original",
            config: { formulas: [{ name: "売上計", method: "sum", subject: "売上", unit: "円" }] },
          },
          u.auth,
        ),
      ),
    );
    const saved = await request(
      `${sbase}/snapshot`,
      jsonInit("POST", { name: "確認用", description: "レビュー前" }, u.auth),
    );
    expect(saved.status).toBe(201);
    const snap1 = await json(saved);
    expect(snap1).toMatchObject({ order: 1, trigger: "manual", name: "確認用", description: "レビュー前" });
    expect(snap1.step[0].stepKey).toBe(summary.stepKey);
    expect(snap1.step[0].id).not.toBe(summary.id);
    const snap2 = await json(await request(`${sbase}/snapshot`, jsonInit("POST", {}, u.auth)));
    expect(snap2.parentSnapshotId).toBe(snap1.id);
    const list = await json(await request(`${sbase}/snapshot`, { headers: u.auth }));
    expect(list.items.map((x: any) => x.order)).toEqual([0, 1, 2]);
    const results = await json(await request(`${sbase}/result`, { headers: u.auth }));
    expect(results.snapshot).toBe(2);
    expect(results.results[0].formulas[0]).toMatchObject({ name: "売上計", value: 3300, display: "3,300円" });
    const current = await request(`${sbase}/snapshot/${snap2.id}`, { method: "DELETE", headers: u.auth });
    expect((await json(current)).code).toBe("SNAPSHOT_NOT_DELETABLE");
    expect(
      (await request(`${sbase}/snapshot/${snap1.id}`, { method: "DELETE", headers: u.auth })).status,
    ).toBe(204);
    const after = await json(await request(`${sbase}/snapshot`, { headers: u.auth }));
    expect(after.items.map((x: any) => x.order)).toEqual([0, 2]);
    expect(after.items[1].parentSnapshotId).toBe(after.items[0].id);
    const restored = await json(await request(sbase, jsonInit("PUT", { currentSnapshot: 0 }, u.auth)));
    expect(restored.snapshotCount).toBe(1);
    const messages = await json(await request(`${sbase}/messages`, { headers: u.auth }));
    expect(messages.items.map((m: any) => m.role)).toEqual(["system", "assistant"]);
    const sys = await request(`${sbase}/messages/${messages.items[0].id}`, {
      method: "DELETE",
      headers: u.auth,
    });
    expect((await json(sys)).code).toBe("CHAT_NOT_DELETABLE");
    expect(
      (await request(`${sbase}/messages/${messages.items[1].id}`, { method: "DELETE", headers: u.auth }))
        .status,
    ).toBe(204);
    const gone = await request(`${sbase}/messages/${crypto.randomUUID()}`, {
      method: "DELETE",
      headers: u.auth,
    });
    expect((await json(gone)).code).toBe("CHAT_NOT_FOUND");
  });

  test("duplicate: same orders, step keys and results; includeSnapshots:false keeps only the current one", async () => {
    const { u, pf, sbase, project } = await sessionWithFile();
    await selectF1Input(sbase, u.auth, pf.id, { a: "年度" });
    const step = await json(
      await request(
        `${sbase}/step`,
        jsonInit(
          "POST",
          {
            name: "合計",
            type: "summary",
            input: "original",
            config: { formulas: [{ name: "コスト計", method: "sum", subject: "コスト", unit: "円" }] },
          },
          u.auth,
        ),
      ),
    );
    await request(`${sbase}/snapshot`, jsonInit("POST", { name: "保存" }, u.auth));
    const source = await json(await request(sbase, { headers: u.auth }));
    const res = await request(`${sbase}/duplicate`, jsonInit("POST", {}, u.auth));
    expect(res.status).toBe(201);
    const copy = await json(res);
    expect(copy.id).not.toBe(source.id);
    expect(copy.name).toBe(`${source.name}（コピー）`);
    expect(copy.snapshotList.map((x: any) => [x.order, x.trigger])).toEqual(
      source.snapshotList.map((x: any) => [x.order, x.trigger]),
    );
    expect(copy.inputFileId).not.toBe(source.inputFileId);
    expect(copy.fileList[0].id).toBe(copy.inputFileId);
    const cur = (d: any) => d.snapshotList.find((x: any) => x.order === d.currentSnapshot);
    expect(cur(copy).step[0].stepKey).toBe(step.stepKey);
    expect(cur(copy).step[0].resultFormula).toEqual(cur(source).step[0].resultFormula);
    expect(cur(copy).step[0].resultFormula[0].value).toBe(2550);
    const base = `/api/v1/project/${project.id}/analysis/session`;
    const one = await json(
      await request(
        `${sbase}/duplicate`,
        jsonInit("POST", { name: "単独", includeSnapshots: false }, u.auth),
      ),
    );
    expect(one.name).toBe("単独");
    expect(one.snapshotList.map((x: any) => [x.order, x.trigger])).toEqual([[0, "duplicate"]]);
    expect(one.snapshotList[0].step[0].stepKey).toBe(step.stepKey);
    const list = await json(await request(base, { headers: u.auth }));
    expect(list.total).toBe(3);
  });

  test("re-parsing the selected input resets to snapshot 0 without steps", async () => {
    const { u, pf, sbase } = await sessionWithFile();
    const af = await json(await request(`${sbase}/file`, jsonInit("POST", { projectFileId: pf.id }, u.auth)));
    const configure = (axes: Record<string, string>) =>
      request(`${sbase}/file/${af.id}`, jsonInit("PATCH", { sheetName: "Sheet1", axisConfig: axes }, u.auth));
    await configure({ a: "年度" });
    await request(sbase, jsonInit("PUT", { inputFileId: af.id }, u.auth));
    await request(
      `${sbase}/step`,
      jsonInit("POST", { name: "未設定", type: "filter", input: "original" }, u.auth),
    );
    await request(`${sbase}/snapshot`, jsonInit("POST", {}, u.auth));
    expect((await json(await request(sbase, { headers: u.auth }))).snapshotCount).toBe(2);
    const reparsed = await json(await configure({ a: "年度", b: "部門" }));
    expect(reparsed.rowCount).toBe(8);
    const detail = await json(await request(sbase, { headers: u.auth }));
    expect(detail.snapshotCount).toBe(1);
    expect(detail.currentSnapshot).toBe(0);
    expect(detail.snapshotList[0].step).toEqual([]);
    expect(detail.inputFileId).toBe(af.id);
  });
});
