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
import { jsonInit, signIn } from "./helpers/users";

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
  await db
    .insert(analysisDummyChartMaster)
    .values({
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
  const json = async (res: Response) => (await res.json()) as any;
  const catalogue = await seedCatalogue(db);

  async function world() {
    const manager = await signIn(request, secret);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "分析", code: `A-${manager.id.slice(-10)}` }, manager.auth),
      ),
    );
    const users: Record<string, Awaited<ReturnType<typeof signIn>>> = { manager };
    for (const role of ["member", "viewer"]) {
      const u = await signIn(request, secret);
      await request(
        `/api/v1/project/${project.id}/member`,
        jsonInit("POST", { userId: u.id, role }, manager.auth),
      );
      users[role] = u;
    }
    users.other = await signIn(request, secret);
    await request(
      `/api/v1/project/${project.id}/member`,
      jsonInit("POST", { userId: users.other.id, role: "member" }, manager.auth),
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
