import { describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import {
  analysisIssueMaster,
  analysisSession,
  analysisSnapshot,
  analysisTemplate,
  analysisValidationMaster,
  auditLog,
} from "@/db/schema";
import { f1Xlsx, f2Xlsx } from "./fixtures/analysis/fixtures";
import { testApp } from "./helpers/context";
import { uploadForm } from "./helpers/files";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

/* Saved analysis templates (api.md §2.6 `/saved…`, analysis.md §6.5, scenario 35 of §8). */

async function seedIssues(db: Database) {
  const tag = crypto.randomUUID().slice(0, 8);
  const [theme] = await db
    .insert(analysisValidationMaster)
    .values({ id: crypto.randomUUID(), name: `テンプレート ${tag}`, validationOrder: 1 })
    .returning();
  const issue = async (name: string) =>
    (
      await db
        .insert(analysisIssueMaster)
        .values({
          id: crypto.randomUUID(),
          validationId: theme.id,
          name,
          agentPrompt: "## 目的\n赤字製品の特定",
          initialMsg: "横軸と縦軸に使う科目を選んでください。",
        })
        .returning()
    )[0];
  return { issue: await issue("赤字製品の特定"), toArchive: await issue("後で廃止する課題") };
}

type User = Awaited<ReturnType<typeof signIn>>;

describe("saved analysis templates", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const secret = deps.config.secretKey;
  const { issue, toArchive } = await seedIssues(db);

  /* Project P (manager, moderator, two members, viewer) and project Q (manager, member). */
  async function world() {
    const project = async (manager: User, name: string) =>
      json(
        await request(
          "/api/v1/project",
          jsonInit("POST", { name, code: `T-${crypto.randomUUID().slice(-10)}` }, manager.auth),
        ),
      );
    const add = async (projectId: string, manager: User, role: string) => {
      const u = await signIn(request, secret);
      await request(
        `/api/v1/project/${projectId}/member`,
        jsonInit("POST", { userId: u.id, role }, manager.auth),
      );
      return u;
    };
    const pm = await signIn(request, secret);
    const p = await project(pm, "テンプレP");
    const users = {
      pm,
      moderator: await add(p.id, pm, "project_moderator"),
      member: await add(p.id, pm, "member"),
      other: await add(p.id, pm, "member"),
      viewer: await add(p.id, pm, "viewer"),
    };
    const qpm = await signIn(request, secret);
    const q = await project(qpm, "テンプレQ");
    const qMember = await add(q.id, qpm, "member");
    return {
      users,
      p,
      q,
      qpm,
      qMember,
      tbase: `/api/v1/project/${p.id}/analysis/template/saved`,
      qtbase: `/api/v1/project/${q.id}/analysis/template/saved`,
    };
  }

  /* A session of `projectId` whose input is the given workbook's Sheet1 with the given axes. */
  async function sessionOn(
    projectId: string,
    user: User,
    workbook: Uint8Array | null,
    axisConfig: Record<string, string>,
    extra: Record<string, string> = {},
  ) {
    const base = `/api/v1/project/${projectId}/analysis/session`;
    const s = await json(await request(base, jsonInit("POST", { issueId: issue.id, ...extra }, user.auth)));
    const sbase = `${base}/${s.id}`;
    if (workbook) {
      const pf = await json(
        await request(`/api/v1/project/${projectId}/file`, {
          method: "POST",
          body: uploadForm("book.xlsx", workbook),
          headers: user.auth,
        }),
      );
      const af = await json(
        await request(`${sbase}/file`, jsonInit("POST", { projectFileId: pf.id }, user.auth)),
      );
      await request(
        `${sbase}/file/${af.id}`,
        jsonInit("PATCH", { sheetName: "Sheet1", axisConfig }, user.auth),
      );
      const selected = await request(sbase, jsonInit("PUT", { inputFileId: af.id }, user.auth));
      expect(selected.status).toBe(200);
    }
    return { id: s.id as string, sbase };
  }

  /* Scenario 11's five steps on F2; s2 filters by s1's products through tableFilter. */
  async function scenario11(sbase: string, user: User) {
    const add = async (body: unknown) => {
      const res = await request(`${sbase}/step`, jsonInit("POST", body, user.auth));
      expect(res.status).toBe(201);
      return json(res);
    };
    const s0 = await add({
      name: "s0",
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
    const s1 = await add({
      name: "s1",
      type: "filter",
      input: "original",
      config: {
        categoryFilter: { 科目: ["利益"] },
        numericFilter: { filterType: "range", max: 0, maxInclusive: false },
      },
    });
    const s2 = await add({
      name: "s2",
      type: "filter",
      input: "original",
      config: { tableFilter: { sourceStepKey: s1.stepKey, keyColumns: ["製品"], mode: "exclude" } },
    });
    const s3 = await add({
      name: "s3",
      type: "summary",
      input: s2.stepKey,
      config: {
        formulas: [
          { name: "利益", method: "sum", subject: "利益", unit: "円" },
          { name: "売上高", method: "sum", subject: "売上高", unit: "円" },
        ],
      },
    });
    const s4 = await add({
      name: "s4",
      type: "summary",
      input: s1.stepKey,
      config: {
        formulas: [
          { name: "p", method: "sum", subject: "利益", unit: "円", portion: -1 },
          { name: "c", method: "count", subject: "利益", unit: "個" },
        ],
      },
    });
    expect(s3.resultFormula.map((f: any) => f.value)).toEqual([40, 250]);
    return [s0, s1, s2, s3, s4];
  }

  const currentOf = (detail: any) => detail.snapshotList.find((s: any) => s.order === detail.currentSnapshot);
  const snapshotCount = async (sessionId: string) =>
    (await db.select().from(analysisSnapshot).where(eq(analysisSnapshot.sessionId, sessionId))).length;
  const usage = async (templateId: string) =>
    (await db.select().from(analysisTemplate).where(eq(analysisTemplate.id, templateId)))[0];

  test("scenario 35: a step template appended to an F2 session under new keys; F1 → 422, nothing written", async () => {
    const { users, p, q, qMember, tbase } = await world();
    const source = await sessionOn(p.id, users.member, await f2Xlsx(), { a: "製品" });
    const steps = await scenario11(source.sbase, users.member);
    const created = await request(
      tbase,
      jsonInit(
        "POST",
        {
          name: "不採算製品の抽出",
          sourceSessionId: source.id,
          templateType: "step",
          description: "赤字製品を除外",
        },
        users.member.auth,
      ),
    );
    expect(created.status).toBe(201);
    const template = await json(created);
    expect(created.headers.get("location")).toBe(`${tbase}/${template.id}`);
    expect(template).toMatchObject({
      projectId: p.id,
      templateType: "step",
      isPublic: false,
      issueId: issue.id,
      issueName: issue.name,
      sourceSessionId: source.id,
      usageCount: 0,
      lastUsedAt: null,
      editable: true,
      createdBy: { id: users.member.id, email: users.member.email },
    });
    expect(template.config.steps.map((s: any) => [s.stepKey, s.name, s.type, s.input])).toEqual(
      steps.map((s) => [s.stepKey, s.name, s.type, s.input]),
    );
    expect(template.config.steps[2].config.tableFilter.sourceStepKey).toBe(steps[1].stepKey);

    const target = await sessionOn(p.id, users.member, await f2Xlsx(), { a: "製品" });
    const applied = await request(
      `${tbase}/${template.id}/apply`,
      jsonInit("POST", { targetSessionId: target.id }, users.member.auth),
    );
    expect(applied.status).toBe(200);
    const detail = await json(applied);
    expect(detail.id).toBe(target.id);
    expect(detail.currentSnapshot).toBe(1);
    const snap0 = detail.snapshotList.find((s: any) => s.order === 0);
    const snap = currentOf(detail);
    expect(snap).toMatchObject({ trigger: "template", parentSnapshotId: snap0.id });
    expect(snap.chat.map((c: any) => c.role)).toEqual(["system", "assistant"]);
    const appended = snap.step;
    expect(appended.map((s: any) => s.name)).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    const oldKeys = new Set(steps.map((s) => s.stepKey));
    expect(appended.every((s: any) => !oldKeys.has(s.stepKey))).toBe(true);
    expect(new Set(appended.map((s: any) => s.stepKey)).size).toBe(5);
    expect(appended[0].input).toBe("original");
    expect(appended[1].input).toBe("original");
    expect(appended[2].config.tableFilter.sourceStepKey).toBe(appended[1].stepKey);
    expect(appended[3].input).toBe(appended[2].stepKey);
    expect(appended[4].input).toBe(appended[1].stepKey);
    expect(appended[3].resultFormula.map((f: any) => f.value)).toEqual([40, 250]);
    expect(appended[4].resultFormula.map((f: any) => [f.value, f.unit])).toEqual([
      [25, "円"],
      [2, "個"],
    ]);
    expect(appended[0].resultChart.data[0].type).toBe("scatter");
    const afterUse = await json(await request(`${tbase}/${template.id}`, { headers: users.viewer.auth }));
    expect(afterUse.usageCount).toBe(1);
    expect(afterUse.lastUsedAt).not.toBeNull();
    expect(afterUse.editable).toBe(false);
    const audits = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceId, template.id), eq(auditLog.action, "APPLY")));
    expect(audits).toHaveLength(1);
    expect(audits[0].userId).toBe(users.member.id);

    // F1 has neither 利益 nor 製品: every step fails (the first two invalid, the rest blocked by them).
    const onF1 = await sessionOn(p.id, users.member, await f1Xlsx(), { a: "年度", b: "部門" });
    const refused = await request(
      `${tbase}/${template.id}/apply`,
      jsonInit("POST", { targetSessionId: onF1.id }, users.member.auth),
    );
    expect(refused.status).toBe(422);
    const problem = await json(refused);
    expect(problem.code).toBe("TEMPLATE_NOT_APPLICABLE");
    expect(problem.failingSteps.map((f: any) => [f.name, f.status])).toEqual([
      ["s0", "invalid"],
      ["s1", "invalid"],
      ["s2", "blocked"],
      ["s3", "blocked"],
      ["s4", "blocked"],
    ]);
    expect(problem.failingSteps[0].errors.length).toBeGreaterThan(0);
    expect(problem.failingSteps[0].availableSubjects).toEqual(["売上", "コスト"]);
    expect(problem.errors.some((e: any) => e.path.startsWith("/steps/1/"))).toBe(true);
    expect(await snapshotCount(onF1.id)).toBe(1);
    expect((await usage(template.id)).usageCount).toBe(1);

    // A second apply onto the same session: names made unique, the earlier steps kept as they were.
    const again = await json(
      await request(
        `${tbase}/${template.id}/apply`,
        jsonInit("POST", { targetSessionId: target.id }, users.pm.auth),
      ),
    );
    const twice = currentOf(again);
    expect(twice.order).toBe(2);
    expect(twice.step.map((s: any) => s.name)).toEqual([
      "s0",
      "s1",
      "s2",
      "s3",
      "s4",
      "s0 (2)",
      "s1 (2)",
      "s2 (2)",
      "s3 (2)",
      "s4 (2)",
    ]);
    expect(twice.step.slice(0, 5).map((s: any) => s.stepKey)).toEqual(appended.map((s: any) => s.stepKey));
    expect(twice.step[7].config.tableFilter.sourceStepKey).toBe(twice.step[6].stepKey);
    expect(twice.step[8].resultFormula.map((f: any) => f.value)).toEqual([40, 250]);
    expect((await usage(template.id)).usageCount).toBe(2);

    // Guards on the target session.
    const apply = (body: unknown, user: User) =>
      request(`${tbase}/${template.id}/apply`, jsonInit("POST", body, user.auth));
    const notOwner = await apply({ targetSessionId: target.id }, users.other);
    expect((await json(notOwner)).code).toBe("NOT_OWNER");
    const noInput = await sessionOn(p.id, users.member, null, {});
    expect((await json(await apply({ targetSessionId: noInput.id }, users.member))).code).toBe(
      "INPUT_FILE_REQUIRED",
    );
    await db
      .update(analysisSession)
      .set({ chatLeaseUntil: new Date(Date.now() + 60_000) })
      .where(eq(analysisSession.id, target.id));
    const leased = await apply({ targetSessionId: target.id }, users.member);
    expect(leased.status).toBe(409);
    expect((await json(leased)).code).toBe("CHAT_IN_PROGRESS");
    await db.update(analysisSession).set({ chatLeaseUntil: null }).where(eq(analysisSession.id, target.id));
    expect((await json(await apply({}, users.member))).code).toBe("VALIDATION_FAILED");
    expect((await json(await apply({ targetSessionId: target.id, name: "x" }, users.member))).code).toBe(
      "VALIDATION_FAILED",
    );
    expect((await apply({ targetSessionId: target.id }, users.viewer)).status).toBe(403);
    // Project isolation: a session of Q named under P.
    const inQ = await sessionOn(q.id, qMember, await f2Xlsx(), { a: "製品" });
    const foreign = await apply({ targetSessionId: inQ.id }, users.pm);
    expect(foreign.status).toBe(404);
    expect((await json(foreign)).code).toBe("SESSION_NOT_FOUND");
    expect(await snapshotCount(inQ.id)).toBe(1);
    expect((await usage(template.id)).usageCount).toBe(2);
    // Once public, Q may append it to its own session.
    await request(`${tbase}/${template.id}`, jsonInit("PATCH", { isPublic: true }, users.pm.auth));
    const qtbase = `/api/v1/project/${q.id}/analysis/template/saved`;
    const inQApplied = await request(
      `${qtbase}/${template.id}/apply`,
      jsonInit("POST", { targetSessionId: inQ.id }, qMember.auth),
    );
    expect(inQApplied.status).toBe(200);
    expect(currentOf(await json(inQApplied)).step[3].resultFormula.map((f: any) => f.value)).toEqual([
      40, 250,
    ]);
    expect((await usage(template.id)).usageCount).toBe(3);
  });

  test("session template: apply → 201 new session, snapshot 0 trigger template, stored prompt and message", async () => {
    const { users, p, tbase } = await world();
    const source = await sessionOn(
      p.id,
      users.member,
      null,
      {},
      {
        customSystemPrompt: "簡潔に",
        initialMessage: "ようこそ",
      },
    );
    const template = await json(
      await request(
        tbase,
        jsonInit("POST", { name: "歓迎つき", sourceSessionId: source.id }, users.member.auth),
      ),
    );
    expect(template.templateType).toBe("session");
    expect(template.config).toEqual({
      customSystemPrompt: "簡潔に",
      initialMessage: "ようこそ",
      steps: null,
    });
    const res = await request(
      `${tbase}/${template.id}/apply`,
      jsonInit("POST", { name: "テンプレから" }, users.other.auth),
    );
    expect(res.status).toBe(201);
    const s = await json(res);
    expect(res.headers.get("location")).toBe(`/api/v1/project/${p.id}/analysis/session/${s.id}`);
    expect(s).toMatchObject({
      name: "テンプレから",
      status: "draft",
      currentSnapshot: 0,
      snapshotCount: 1,
      issueId: issue.id,
      customSystemPrompt: "簡潔に",
      initialMessage: "ようこそ",
      creator: { id: users.other.id },
    });
    expect(s.snapshotList[0].trigger).toBe("template");
    expect(s.snapshotList[0].chat.map((c: any) => [c.role, c.message])).toEqual([
      ["system", "## 目的\n赤字製品の特定"],
      ["assistant", "ようこそ"],
    ]);
    const defaultName = await json(
      await request(`${tbase}/${template.id}/apply`, jsonInit("POST", {}, users.member.auth)),
    );
    expect(defaultName.name).toBe(`${issue.name} ${new Date().toISOString().slice(0, 10)}`);
    const used = await usage(template.id);
    expect(used.usageCount).toBe(2);
    expect(used.lastUsedAt).not.toBeNull();
    const sessionAudit = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceId, s.id), eq(auditLog.action, "CREATE")));
    expect(sessionAudit).toHaveLength(1);
    expect(
      (
        await json(
          await request(
            `${tbase}/${template.id}/apply`,
            jsonInit("POST", { targetSessionId: source.id }, users.member.auth),
          ),
        )
      ).code,
    ).toBe("VALIDATION_FAILED");
    const viewer = await request(`${tbase}/${template.id}/apply`, jsonInit("POST", {}, users.viewer.auth));
    expect((await json(viewer)).code).toBe("ROLE_INSUFFICIENT");

    // An issue archived after the template was saved: no new sessions from it.
    const base = `/api/v1/project/${p.id}/analysis/session`;
    const onOld = await json(
      await request(base, jsonInit("POST", { issueId: toArchive.id }, users.member.auth)),
    );
    const oldTemplate = await json(
      await request(
        tbase,
        jsonInit("POST", { name: "廃止予定", sourceSessionId: onOld.id }, users.member.auth),
      ),
    );
    await db
      .update(analysisIssueMaster)
      .set({ isActive: false })
      .where(eq(analysisIssueMaster.id, toArchive.id));
    const archived = await request(
      `${tbase}/${oldTemplate.id}/apply`,
      jsonInit("POST", {}, users.member.auth),
    );
    expect(archived.status).toBe(409);
    expect((await json(archived)).code).toBe("MASTER_ARCHIVED");
    expect((await usage(oldTemplate.id)).usageCount).toBe(0);
    // Still readable with the issue's name.
    const readable = await json(await request(`${tbase}/${oldTemplate.id}`, { headers: users.viewer.auth }));
    expect(readable.issueName).toBe(toArchive.name);
  });

  test("permissions: viewer reads only; isPublic needs PM; owners and moderators edit; public across projects", async () => {
    const { users, p, q, qpm, qMember, tbase, qtbase } = await world();
    const source = await sessionOn(p.id, users.member, null, {});
    const post = (body: Record<string, unknown>, user: User) =>
      request(tbase, jsonInit("POST", { sourceSessionId: source.id, ...body }, user.auth));
    expect((await json(await post({ name: "閲覧者" }, users.viewer))).code).toBe("ROLE_INSUFFICIENT");
    const memberPublic = await post({ name: "公開", isPublic: true }, users.member);
    expect(memberPublic.status).toBe(403);
    expect((await json(memberPublic)).code).toBe("ROLE_INSUFFICIENT");
    const mine = await json(await post({ name: "メンバーの" }, users.member));
    expect(mine.editable).toBe(true);
    expect(
      (
        await request(
          tbase,
          jsonInit("POST", { name: "x", sourceSessionId: source.id, extra: 1 }, users.member.auth),
        )
      ).status,
    ).toBe(422);

    const asViewer = await json(await request(`${tbase}/${mine.id}`, { headers: users.viewer.auth }));
    expect(asViewer.editable).toBe(false);
    const listed = await json(await request(`${tbase}?includePublic=false`, { headers: users.viewer.auth }));
    expect(listed.items.map((t: any) => t.id)).toEqual([mine.id]);

    const patch = (id: string, body: unknown, user: User, base = tbase) =>
      request(`${base}/${id}`, jsonInit("PATCH", body, user.auth));
    expect((await json(await patch(mine.id, { isPublic: true }, users.member))).code).toBe(
      "ROLE_INSUFFICIENT",
    );
    expect((await json(await patch(mine.id, { name: "他人が" }, users.other))).code).toBe("NOT_OWNER");
    const otherView = await json(await request(`${tbase}/${mine.id}`, { headers: users.other.auth }));
    expect(otherView.editable).toBe(false);
    const renamed = await json(await patch(mine.id, { name: "改名", description: "説明" }, users.member));
    expect(renamed).toMatchObject({ name: "改名", description: "説明", isPublic: false });
    expect((await json(await patch(mine.id, { description: null }, users.moderator))).description).toBeNull();
    expect((await json(await patch(mine.id, { isPublic: true }, users.moderator))).code).toBe(
      "ROLE_INSUFFICIENT",
    );
    const published = await json(await patch(mine.id, { isPublic: true }, users.pm));
    expect(published).toMatchObject({ isPublic: true, editable: true });
    expect((await patch(mine.id, { isPublic: true }, users.member)).status).toBe(200);

    const privateOne = await json(await post({ name: "非公開" }, users.member));

    // Project Q sees P's public template, never its private one.
    const qList = await json(await request(qtbase, { headers: qMember.auth }));
    const qIds = qList.items.map((t: any) => t.id);
    expect(qIds).toContain(mine.id);
    expect(qIds).not.toContain(privateOne.id);
    const qOnlyOwn = await json(await request(`${qtbase}?includePublic=false`, { headers: qMember.auth }));
    expect(qOnlyOwn.items).toEqual([]);
    const fromQ = await json(await request(`${qtbase}/${mine.id}`, { headers: qMember.auth }));
    expect(fromQ).toMatchObject({ projectId: p.id, editable: false });
    const qPatch = await patch(mine.id, { name: "乗っ取り" }, qpm, qtbase);
    expect(qPatch.status).toBe(403);
    expect((await json(qPatch)).code).toBe("NOT_OWNER");
    const qDelete = await request(`${qtbase}/${mine.id}`, { method: "DELETE", headers: qpm.auth });
    expect((await json(qDelete)).code).toBe("NOT_OWNER");
    for (const res of [
      await request(`${qtbase}/${privateOne.id}`, { headers: qMember.auth }),
      await patch(privateOne.id, { name: "y" }, qpm, qtbase),
      await request(`${qtbase}/${privateOne.id}`, { method: "DELETE", headers: qpm.auth }),
      await request(`${qtbase}/${privateOne.id}/apply`, jsonInit("POST", {}, qMember.auth)),
    ]) {
      expect(res.status).toBe(404);
      expect((await json(res)).code).toBe("TEMPLATE_NOT_FOUND");
    }
    expect((await request(`${tbase}/${crypto.randomUUID()}`, { headers: users.viewer.auth })).status).toBe(
      404,
    );
    // A public session template creates a session in the applying project.
    const inQ = await request(`${qtbase}/${mine.id}/apply`, jsonInit("POST", {}, qMember.auth));
    expect(inQ.status).toBe(201);
    expect((await json(inQ)).projectId).toBe(q.id);
    expect((await usage(mine.id)).usageCount).toBe(1);

    // A source session of another project is not found.
    const qSession = await sessionOn(q.id, qMember, null, {});
    const foreign = await post({ name: "外部", sourceSessionId: qSession.id }, users.member);
    expect(foreign.status).toBe(404);
    expect((await json(foreign)).code).toBe("SESSION_NOT_FOUND");

    // Delete: Own|Mod+ → 204, audited; then gone.
    expect(
      (
        await json(
          await request(`${tbase}/${privateOne.id}`, { method: "DELETE", headers: users.other.auth }),
        )
      ).code,
    ).toBe("NOT_OWNER");
    expect(
      (await request(`${tbase}/${privateOne.id}`, { method: "DELETE", headers: users.viewer.auth })).status,
    ).toBe(403);
    expect(
      (await request(`${tbase}/${privateOne.id}`, { method: "DELETE", headers: users.member.auth })).status,
    ).toBe(204);
    expect((await request(`${tbase}/${privateOne.id}`, { headers: users.member.auth })).status).toBe(404);
    const actions = (await db.select().from(auditLog).where(eq(auditLog.resourceId, privateOne.id))).map(
      (a) => a.action,
    );
    expect(actions.sort()).toEqual(["CREATE", "DELETE"]);
  });

  test("NAME_TAKEN per project, case-insensitive; list filters and sorts", async () => {
    const { users, p, q, qMember, tbase, qtbase } = await world();
    const source = await sessionOn(p.id, users.member, null, {});
    const post = async (body: Record<string, unknown>) =>
      request(tbase, jsonInit("POST", { sourceSessionId: source.id, ...body }, users.member.auth));
    const beta = await json(await post({ name: "Beta" }));
    const clash = await post({ name: "  beta " });
    expect(clash.status).toBe(409);
    expect((await json(clash)).code).toBe("NAME_TAKEN");
    const alpha = await json(await post({ name: "alpha", templateType: "step", description: "検索語あり" }));
    const gamma = await json(await post({ name: "Gamma" }));
    const rename = await request(
      `${tbase}/${gamma.id}`,
      jsonInit("PATCH", { name: "ALPHA" }, users.member.auth),
    );
    expect((await json(rename)).code).toBe("NAME_TAKEN");
    // Another project may reuse the name.
    const qSource = await sessionOn(q.id, qMember, null, {});
    const reuse = await request(
      qtbase,
      jsonInit("POST", { name: "Beta", sourceSessionId: qSource.id }, qMember.auth),
    );
    expect(reuse.status).toBe(201);

    const list = async (query: string) =>
      (
        await json(await request(`${tbase}?includePublic=false&${query}`, { headers: users.viewer.auth }))
      ).items.map((t: any) => t.name);
    expect(await list("sort=name")).toEqual(["alpha", "Beta", "Gamma"]);
    await request(`${tbase}/${beta.id}`, jsonInit("PATCH", { description: "更新" }, users.member.auth));
    expect(await list("")).toEqual(["Beta", "Gamma", "alpha"]);
    expect(await list("templateType=step")).toEqual(["alpha"]);
    expect(await list("q=検索語")).toEqual(["alpha"]);
    expect(await list("q=AMM")).toEqual(["Gamma"]);
    await request(`${tbase}/${gamma.id}/apply`, jsonInit("POST", {}, users.member.auth));
    expect((await list("sort=-usageCount"))[0]).toBe("Gamma");
    const paged = await json(
      await request(`${tbase}?includePublic=false&sort=name&skip=1&limit=1`, { headers: users.viewer.auth }),
    );
    expect(paged).toMatchObject({ total: 3, skip: 1, limit: 1 });
    expect(paged.items.map((t: any) => t.id)).toEqual([beta.id]);
    expect((await request(`${tbase}?sort=size`, { headers: users.viewer.auth })).status).toBe(422);
    expect((await request(`${tbase}?templateType=chart`, { headers: users.viewer.auth })).status).toBe(422);
    expect(alpha.config.steps).toEqual([]);
  });
});
