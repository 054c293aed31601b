import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { seedIssue } from "./helpers/analysis";
import { testApp } from "./helpers/context";
import { uploadForm } from "./helpers/files";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

/*
 * The member/file/session counts of a project are columns kept by triggers (migration 0005):
 * after every kind of write the single read and the list report exactly what counting the rows
 * gives — new versions (only the latest counts), deletes, member removal, sessions, and a whole
 * user or project removed by cascade.
 */
describe("project counters", () => {
  test("follow every write, in the read and the list", async () => {
    const { request, deps } = await testApp();
    const db = deps.database.db;
    const secret = deps.config.secretKey;
    const owner = await signIn(request, secret);
    const a = await signIn(request, secret);
    const b = await signIn(request, secret);
    const tag = owner.id.slice(-8);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: `Count ${tag}`, code: `CN-${tag}` }, owner.auth),
      ),
    );
    const base = `/api/v1/project/${project.id}`;

    const counted = async () => {
      const rows = await db.execute<{ m: number; f: number; s: number }>(sql`select
        (select count(*)::int from project_member where project_id = ${project.id}) as m,
        (select count(*)::int from project_file where project_id = ${project.id} and is_latest) as f,
        (select count(*)::int from analysis_session where project_id = ${project.id}) as s`);
      const r = ((rows as any).rows ?? rows)[0];
      return { memberCount: r.m, fileCount: r.f, sessionCount: r.s };
    };
    const expectCounts = async (want: { memberCount: number; fileCount: number; sessionCount: number }) => {
      expect(await counted()).toEqual(want);
      const one = await json(await request(base, { headers: owner.auth }));
      expect(one.stats).toMatchObject(want);
      const list = await json(
        await request(`/api/v1/project?limit=100&q=CN-${tag}`, { headers: owner.auth }),
      );
      const item = list.items.find((p: any) => p.id === project.id);
      expect(item.stats).toMatchObject(want);
    };

    await expectCounts({ memberCount: 1, fileCount: 0, sessionCount: 0 });
    const memberships: string[] = [];
    for (const u of [a, b]) {
      const res = await request(
        `${base}/member`,
        jsonInit("POST", { userId: u.id, role: "member" }, owner.auth),
      );
      expect(res.status).toBe(201);
      memberships.push((await json(res)).id);
    }
    await expectCounts({ memberCount: 3, fileCount: 0, sessionCount: 0 });

    const upload = (name: string, body: string, path = `${base}/file`) =>
      request(path, { method: "POST", body: uploadForm(name, body), headers: owner.auth });
    const one = await json(await upload("one.csv", "a\n1\n"));
    const two = await json(await upload("two.csv", "a\n2\n"));
    await expectCounts({ memberCount: 3, fileCount: 2, sessionCount: 0 });
    // A new version replaces the latest of its chain: still two files.
    const v2 = await upload("one.csv", "a\n11\n", `${base}/file/${one.id}/version`);
    expect(v2.status).toBe(201);
    await expectCounts({ memberCount: 3, fileCount: 2, sessionCount: 0 });
    expect((await request(`${base}/file/${two.id}`, { method: "DELETE", headers: owner.auth })).status).toBe(
      204,
    );
    await expectCounts({ memberCount: 3, fileCount: 1, sessionCount: 0 });

    const issue = await seedIssue(db);
    const session = await json(
      await request(`${base}/analysis/session`, jsonInit("POST", { issueId: issue.id }, owner.auth)),
    );
    expect(session.id).toBeString();
    await request(`${base}/analysis/session`, jsonInit("POST", { issueId: issue.id }, owner.auth));
    await expectCounts({ memberCount: 3, fileCount: 1, sessionCount: 2 });
    const del = await request(`${base}/analysis/session/${session.id}`, {
      method: "DELETE",
      headers: owner.auth,
    });
    expect(del.status).toBe(204);
    await expectCounts({ memberCount: 3, fileCount: 1, sessionCount: 1 });

    const removed = await request(`${base}/member/${memberships[0]}`, {
      method: "DELETE",
      headers: owner.auth,
    });
    expect(removed.status).toBe(204);
    await expectCounts({ memberCount: 2, fileCount: 1, sessionCount: 1 });
    // A user removed outright takes their memberships with them (cascade).
    await db.execute(sql`delete from user_account where id = ${b.id}`);
    expect((await counted()).memberCount).toBe(1);
    const stored: any = await db.execute(sql`select member_count from project where id = ${project.id}`);
    expect((stored.rows ?? stored)[0].member_count).toBe(1);

    // Deleting the project cascades through rows whose triggers find no project left to update.
    const gone = await request(base, { method: "DELETE", headers: owner.auth });
    expect([202, 204]).toContain(gone.status);
  });
});
