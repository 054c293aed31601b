import { describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { auditLog, roleHistory } from "@/db/schema";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";
import { world as baseWorld } from "./helpers/world";

/* A minimal valid value for a request schema, so the guard (not validation) decides the answer. */
function sample(schema: any): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.anyOf) return sample(schema.anyOf[0]);
  switch (schema.type) {
    case "object":
      if (schema.patternProperties) return { a: sample(Object.values(schema.patternProperties)[0]) };
      return Object.fromEntries(
        (schema.required ?? []).map((k: string) => [k, sample(schema.properties[k])]),
      );
    case "array":
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items));
    case "string":
      if (schema.format === "uuid") return crypto.randomUUID();
      if (schema.format === "date") return "2025-01-01";
      if (schema.format === "date-time") return new Date().toISOString();
      return "x".repeat(Math.max(1, schema.minLength ?? 1));
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return false;
    default:
      return null;
  }
}

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
type User = Awaited<ReturnType<typeof signIn>>;

describe("projects and members", async () => {
  const { app, request, deps } = await testApp();
  const secret = deps.config.secretKey;
  const db = deps.database.db;

  /* A project with one user per role, plus an outsider. */
  const world = async () => {
    const w = await baseWorld(request, secret, {
      project_moderator: "project_moderator",
      member: "member",
      viewer: "viewer",
    });
    return { ...w, users: w.users as Record<string, User> };
  };

  test("create: the creator is project_manager in the same transaction; duplicate code (any case) → 409", async () => {
    const { project, code, users } = await world();
    expect(project.myRole).toBe("project_manager");
    const [created] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceId, project.id), eq(auditLog.action, "CREATE")));
    expect(created).toMatchObject({
      userId: users.manager.id,
      actorEmail: users.manager.email,
      eventType: "DATA_CHANGE",
      projectId: project.id,
    });
    expect(created.requestId).not.toBeNull();
    expect((created.newValue as any).code).toBe(code);
    expect(project.stats.memberCount).toBe(1);
    const dup = await request(
      "/api/v1/project",
      jsonInit("POST", { name: "X", code: code.toLowerCase() }, users.member.auth),
    );
    expect(dup.status).toBe(409);
    expect((await json(dup)).code).toBe("PROJECT_CODE_TAKEN");
    const dates = await request(
      "/api/v1/project",
      jsonInit(
        "POST",
        { name: "X", code: `${code}-d`, startDate: "2025-02-01", endDate: "2025-01-01" },
        users.member.auth,
      ),
    );
    expect((await json(dates)).code).toBe("INVALID_DATE_RANGE");
    const badCode = await request(
      "/api/v1/project",
      jsonInit("POST", { name: "X", code: "-bad" }, users.member.auth),
    );
    expect(badCode.status).toBe(422);
  });

  test("reads: members see it (with stats and myRole); a non-member gets the same 404 as for a missing project", async () => {
    const { project, code, users } = await world();
    const got = await json(await request(`/api/v1/project/${project.id}`, { headers: users.viewer.auth }));
    expect(got.myRole).toBe("viewer");
    expect(got.stats.memberCount).toBe(4);
    const byCode = await request(`/api/v1/project/code/${code.toLowerCase()}`, {
      headers: users.viewer.auth,
    });
    expect((await json(byCode)).id).toBe(project.id);
    const outsider = await request(`/api/v1/project/${project.id}`, { headers: users.outsider.auth });
    const missing = await request(`/api/v1/project/${crypto.randomUUID()}`, { headers: users.outsider.auth });
    expect(outsider.status).toBe(404);
    expect(missing.status).toBe(404);
    const [a, b] = [await json(outsider), await json(missing)];
    expect(a.code).toBe("PROJECT_NOT_FOUND");
    expect(a.detail).toBe(b.detail);
    const denials = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.projectId, project.id), eq(auditLog.action, "ACCESS_DENIED")));
    expect(denials.length).toBeGreaterThan(0);
    const list = await json(await request("/api/v1/project?limit=500", { headers: users.outsider.auth }));
    expect(list.items.find((p: any) => p.id === project.id)).toBeUndefined();
  });

  test("a system admin acts as manager on any project, and that access is audited", async () => {
    const { project } = await world();
    const me = await json(await request(`/api/v1/project/${project.id}/member/me`, { headers: DEV }));
    expect(me).toMatchObject({ role: "project_manager", isMember: false, viaSystemAdmin: true });
    const rows = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.projectId, project.id), eq(auditLog.action, "ADMIN_PROJECT_ACCESS")));
    expect(rows.length).toBeGreaterThan(0);
  });

  /* The role matrix of decisions.md, route by route. */
  test("role matrix", async () => {
    const { project, users } = await world();
    const base = `/api/v1/project/${project.id}`;
    const target = await signIn(request, secret);
    type Case = {
      name: string;
      run: (u: User) => Promise<Response>;
      allowed: string[];
      /** The status an allowed role gets. */
      ok: 200 | 201;
      reset?: () => Promise<void>;
    };
    const roles = ["viewer", "member", "project_moderator", "manager", "outsider"];
    const cases: Case[] = [
      {
        name: "GET project",
        run: (u) => request(base, { headers: u.auth }),
        allowed: ["viewer", "member", "project_moderator", "manager"],
        ok: 200,
      },
      {
        name: "GET members",
        run: (u) => request(`${base}/member`, { headers: u.auth }),
        allowed: ["viewer", "member", "project_moderator", "manager"],
        ok: 200,
      },
      {
        name: "PATCH project",
        run: (u) => request(base, jsonInit("PATCH", { description: "d" }, u.auth)),
        allowed: ["manager"],
        ok: 200,
      },
      {
        name: "add member",
        run: (u) =>
          request(`${base}/member`, jsonInit("POST", { userId: target.id, role: "viewer" }, u.auth)),
        allowed: ["project_moderator", "manager"],
        ok: 201,
        reset: async () => {
          const list = await json(await request(`${base}/member?limit=500`, { headers: users.manager.auth }));
          const m = list.items.find((x: any) => x.userId === target.id);
          if (m) await request(`${base}/member/${m.id}`, { method: "DELETE", headers: users.manager.auth });
        },
      },
    ];
    for (const c of cases) {
      for (const role of roles) {
        const u = role === "manager" ? users.manager : users[role];
        const res = await c.run(u);
        const expected = c.allowed.includes(role) ? c.ok : role === "outsider" ? 404 : 403;
        expect({ c: c.name, role, status: res.status }).toEqual({ c: c.name, role, status: expected });
        if (expected === 403) expect((await json(res)).code).toBe("ROLE_INSUFFICIENT");
        if (c.reset) await c.reset();
      }
    }
  });

  test("member rules: moderators manage only viewers/members; no self role change; last manager kept", async () => {
    const { project, users } = await world();
    const base = `/api/v1/project/${project.id}/member`;
    const list = await json(await request(`${base}?limit=500`, { headers: users.viewer.auth }));
    expect(list.items.map((m: any) => m.role)).toEqual([
      "project_manager",
      "project_moderator",
      "member",
      "viewer",
    ]);
    const byUser = (id: string) => list.items.find((m: any) => m.userId === id);
    const mod = users.project_moderator;
    // Moderator → grant moderator: refused.
    const newcomer = await signIn(request, secret);
    const grant = await request(
      base,
      jsonInit("POST", { userId: newcomer.id, role: "project_moderator" }, mod.auth),
    );
    expect((await json(grant)).code).toBe("ROLE_NOT_GRANTABLE");
    // Moderator → re-role a member to viewer: allowed; re-role the manager: refused.
    const m = byUser(users.member.id);
    expect((await request(`${base}/${m.id}`, jsonInit("PATCH", { role: "viewer" }, mod.auth))).status).toBe(
      200,
    );
    const pm = byUser(users.manager.id);
    expect(
      (await json(await request(`${base}/${pm.id}`, jsonInit("PATCH", { role: "viewer" }, mod.auth)))).code,
    ).toBe("ROLE_NOT_GRANTABLE");
    // Nobody changes their own role.
    const self = await request(`${base}/${pm.id}`, jsonInit("PATCH", { role: "viewer" }, users.manager.auth));
    expect((await json(self)).code).toBe("SELF_ACTION_FORBIDDEN");
    // The last manager cannot leave; removing oneself through the id route is refused.
    const leave = await request(`${base}/me`, { method: "DELETE", headers: users.manager.auth });
    expect((await json(leave)).code).toBe("LAST_PROJECT_MANAGER");
    expect(
      (await json(await request(`${base}/${pm.id}`, { method: "DELETE", headers: users.manager.auth }))).code,
    ).toBe("SELF_ACTION_FORBIDDEN");
    // Duplicates and inactive users.
    const dup = await request(base, jsonInit("POST", { userId: users.viewer.id }, users.manager.auth));
    expect((await json(dup)).code).toBe("ALREADY_MEMBER");
    await request(`/api/v1/user_account/${newcomer.id}/deactivate`, { method: "PATCH", headers: DEV });
    const inactive = await request(base, jsonInit("POST", { userId: newcomer.id }, users.manager.auth));
    expect((await json(inactive)).code).toBe("USER_INACTIVE");
    const unknown = await request(
      base,
      jsonInit("POST", { userId: crypto.randomUUID() }, users.manager.auth),
    );
    expect((await json(unknown)).code).toBe("USER_NOT_FOUND");
    // Promote a second manager, then the first may leave; the viewer may leave.
    const modRow = byUser(mod.id);
    expect(
      (
        await request(
          `${base}/${modRow.id}`,
          jsonInit("PATCH", { role: "project_manager" }, users.manager.auth),
        )
      ).status,
    ).toBe(200);
    expect((await request(`${base}/me`, { method: "DELETE", headers: users.manager.auth })).status).toBe(204);
    expect((await request(`/api/v1/project/${project.id}`, { headers: users.manager.auth })).status).toBe(
      404,
    );
    const history = await db.select().from(roleHistory).where(eq(roleHistory.projectId, project.id));
    expect(history.map((h) => h.action).sort()).toEqual([
      "grant",
      "grant",
      "grant",
      "grant",
      "revoke",
      "update",
      "update",
    ]);
  });

  test("concurrent demotions of the last two managers: exactly one succeeds", async () => {
    const { project, users } = await world();
    const base = `/api/v1/project/${project.id}/member`;
    const list = await json(await request(`${base}?limit=500`, { headers: users.viewer.auth }));
    const mod = list.items.find((m: any) => m.userId === users.project_moderator.id);
    const pm = list.items.find((m: any) => m.userId === users.manager.id);
    await request(`${base}/${mod.id}`, jsonInit("PATCH", { role: "project_manager" }, users.manager.auth));
    const [a, b] = await Promise.all([
      request(`${base}/${mod.id}`, jsonInit("PATCH", { role: "member" }, users.manager.auth)),
      request(`${base}/${pm.id}`, jsonInit("PATCH", { role: "member" }, users.project_moderator.auth)),
    ]);
    // Either the member-row lock refuses the second demotion (422), or the first one committed
    // before the second caller's role was checked, and that caller is no longer a manager (403).
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect([403, 422]).toContain(statuses[1]);
  });

  test("bulk add: partial success with per-item codes; duplicates in the request → 422", async () => {
    const { project, users } = await world();
    const fresh = await signIn(request, secret);
    const res = await request(
      `/api/v1/project/${project.id}/member/bulk`,
      jsonInit(
        "POST",
        {
          members: [
            { userId: fresh.id },
            { userId: users.viewer.id },
            { userId: crypto.randomUUID(), role: "viewer" },
          ],
        },
        users.manager.auth,
      ),
    );
    const body = await json(res);
    expect(body.totalAdded).toBe(1);
    expect(body.failed.map((f: any) => f.code)).toEqual(["ALREADY_MEMBER", "USER_NOT_FOUND"]);
    const dup = await request(
      `/api/v1/project/${project.id}/member/bulk`,
      jsonInit("POST", { members: [{ userId: fresh.id }, { userId: fresh.id }] }, users.manager.auth),
    );
    expect(dup.status).toBe(422);
  });

  test("an inactive project is read-only (409) until reactivated", async () => {
    const { project, users } = await world();
    const base = `/api/v1/project/${project.id}`;
    const off = await json(await request(base, jsonInit("PATCH", { isActive: false }, users.manager.auth)));
    expect(off.isActive).toBe(false);
    expect(off.deactivatedAt).not.toBeNull();
    expect((await request(base, { headers: users.viewer.auth })).status).toBe(200);
    const write = await request(
      `${base}/member`,
      jsonInit("POST", { userId: users.outsider.id }, users.manager.auth),
    );
    expect((await json(write)).code).toBe("PROJECT_INACTIVE");
    const patch = await request(base, jsonInit("PATCH", { name: "New" }, users.manager.auth));
    expect((await json(patch)).code).toBe("PROJECT_INACTIVE");
    const on = await request(base, jsonInit("PATCH", { isActive: true, name: "Back" }, users.manager.auth));
    expect((await json(on)).name).toBe("Back");
    const immutable = await request(base, jsonInit("PATCH", { code: "NEW" }, users.manager.auth));
    expect(immutable.status).toBe(422);
  });

  test("delete cascades members and is audited; member role cache does not outlive it", async () => {
    const { project, users } = await world();
    expect(
      (await request(`/api/v1/project/${project.id}`, { method: "DELETE", headers: users.member.auth }))
        .status,
    ).toBe(403);
    expect(
      (await request(`/api/v1/project/${project.id}`, { method: "DELETE", headers: users.manager.auth }))
        .status,
    ).toBe(204);
    expect((await request(`/api/v1/project/${project.id}`, { headers: users.viewer.auth })).status).toBe(404);
    const rows = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.projectId, project.id), eq(auditLog.action, "DELETE")));
    expect(rows).toHaveLength(1);
  });

  test("every /project/:projectId route refuses a non-member with 404 PROJECT_NOT_FOUND", async () => {
    const { project, users } = await world();
    // Admin routes take a projectId too, but refuse a non-admin with 403 first (admin-guard.test.ts).
    const routes = app.routes.filter(
      (r) => r.path.includes(":projectId") && !r.path.startsWith("/api/v1/admin/"),
    );
    expect(routes.length).toBeGreaterThan(5);
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, (_m, name) =>
        name === "projectId" ? project.id : crypto.randomUUID(),
      );
      const schema = (r.hooks as any)?.body;
      const init: RequestInit = { method: r.method, headers: { ...users.outsider.auth } };
      if (schema && ["POST", "PUT", "PATCH"].includes(r.method)) {
        init.body = JSON.stringify(sample(schema));
        (init.headers as Record<string, string>)["content-type"] = "application/json";
      }
      const query = (r.hooks as any)?.query;
      const qs = query ? new URLSearchParams(sample(query) as Record<string, string>).toString() : "";
      const res = await request(qs ? `${path}?${qs}` : path, init);
      expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({
        route: `${r.method} ${r.path}`,
        status: 404,
      });
      expect((await json(res)).code).toBe("PROJECT_NOT_FOUND");
    }
  });
});
