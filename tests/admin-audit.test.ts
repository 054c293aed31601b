import { describe, expect, test } from "bun:test";
import { and, eq, sql } from "drizzle-orm";
import { writeAudit } from "@/db/queries/audit";
import { auditLog } from "@/db/schema";
import { newId } from "@/lib/ids";
import { ENUMS_MATCH } from "@/modules/admin-audit/model";
import { CATEGORIES_MATCH } from "@/modules/admin-settings/model";
import { testApp } from "./helpers/context";
import { usingPostgres } from "./helpers/env";
import { json } from "./helpers/http";
import { signIn } from "./helpers/users";

/* Audit-log reading (api.md §2.12.3): pages, filters, one resource's history, the audited export. */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const BASE = "/api/v1/admin/audit-logs";

describe("audit-log reading", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const admin = await json(await request("/api/v1/user_account/me", { headers: DEV }));
  const get = (path: string) => request(`${BASE}${path}`, { headers: DEV });

  /* Rows of a resource type of their own, so the assertions see only this test's rows. */
  async function seed() {
    const resourceType = `t_${newId().slice(-10)}`;
    const resourceId = newId();
    const actor = {
      userId: admin.id,
      email: admin.email,
      ip: "10.1.2.3",
      userAgent: "=cmd|' /C calc'!A0",
      requestId: "rq-1",
    };
    await writeAudit(db, actor, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType,
      resourceId,
      newValue: { name: "+SUM(A1:A2)", password: "hunter2" },
    });
    await writeAudit(db, actor, {
      eventType: "DATA_CHANGE",
      action: "UPDATE",
      resourceType,
      resourceId,
      oldValue: { name: "a" },
      newValue: { name: "b" },
    });
    await writeAudit(
      db,
      { ...actor, userId: null, email: null },
      {
        eventType: "SECURITY",
        action: "LOGIN_FAILED",
        resourceType,
        severity: "WARNING",
        outcome: "denied",
        statusCode: 401,
        metadata: { code: "TOKEN_INVALID" },
      },
    );
    await writeAudit(db, actor, { eventType: "ACCESS", action: "EXPORT", resourceType, resourceId });
    return { resourceType, resourceId };
  }

  test("the wire enumerations match the tables' CHECK lists", () => {
    expect(ENUMS_MATCH).toBe(true);
    expect(CATEGORIES_MATCH).toBe(true);
  });

  test("list: newest first, exact shape, filters by type, action, severity, outcome and time", async () => {
    const { resourceType, resourceId } = await seed();
    const res = await get(`?resourceType=${resourceType}`);
    expect(res.status).toBe(200);
    const page = await json(res);
    expect(page.total).toBe(4);
    expect(page.items.map((e: any) => e.action)).toEqual(["EXPORT", "LOGIN_FAILED", "UPDATE", "CREATE"]);
    expect(page.items[3]).toEqual({
      id: expect.any(String),
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType,
      resourceId,
      projectId: null,
      actor: { id: admin.id, email: admin.email, displayName: admin.displayName },
      actorEmail: admin.email,
      outcome: "success",
      statusCode: null,
      severity: "INFO",
      oldValue: null,
      newValue: { name: "+SUM(A1:A2)", password: "***" },
      changedFields: [],
      ipAddress: "10.1.2.3",
      userAgent: "=cmd|' /C calc'!A0",
      requestId: "rq-1",
      metadata: null,
      createdAt: expect.stringMatching(/Z$/),
    });
    expect(page.items[2].changedFields).toEqual(["name"]);
    const q = (extra: string) => get(`?resourceType=${resourceType}&${extra}`).then(json);
    expect((await q("eventType=SECURITY")).items[0]).toMatchObject({ action: "LOGIN_FAILED", actor: null });
    expect((await q("action=UPDATE")).total).toBe(1);
    expect((await q("severity=WARNING")).total).toBe(1);
    expect((await q("outcome=denied")).total).toBe(1);
    expect((await q(`userId=${admin.id}`)).total).toBe(3);
    expect((await q("limit=1&skip=1")).items[0].action).toBe("LOGIN_FAILED");
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await q(`from=${future}`)).total).toBe(0);
    expect((await q(`to=${future}`)).total).toBe(4);
    const bad = await get(`?from=${future}&to=2020-01-01T00:00:00Z`);
    expect(bad.status).toBe(422);
    expect((await json(bad)).code).toBe("INVALID_DATE_RANGE");
    expect((await get("?eventType=NOPE")).status).toBe(422);
  });

  test("changes / access / security views and one resource's history", async () => {
    const { resourceType, resourceId } = await seed();
    const view = (p: string) => get(`/${p}?resourceType=${resourceType}`).then(json);
    expect((await view("changes")).items.map((e: any) => e.action)).toEqual(["UPDATE", "CREATE"]);
    expect((await view("access")).items.map((e: any) => e.action)).toEqual(["EXPORT"]);
    expect((await view("security")).items.map((e: any) => e.action)).toEqual(["LOGIN_FAILED"]);
    expect((await get(`/security?resourceType=${resourceType}&minSeverity=ERROR`).then(json)).total).toBe(0);
    expect((await get(`/security?resourceType=${resourceType}&minSeverity=WARNING`).then(json)).total).toBe(
      1,
    );
    expect((await get(`/changes?resourceType=${resourceType}&eventType=ACCESS`)).status).toBe(422);
    const history = await get(`/resource/${resourceType}/${resourceId}`).then(json);
    expect(history.items.map((e: any) => e.action)).toEqual(["EXPORT", "UPDATE", "CREATE"]);
    expect((await get(`/resource/${resourceType}/not-a-uuid`)).status).toBe(422);
  });

  test("export: CSV streamed with BOM, formula cells neutralised, itself audited; JSON parses", async () => {
    const { resourceType } = await seed();
    const res = await get(`/export?resourceType=${resourceType}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("x-export-truncated")).toBe("false");
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="audit_log_\d{8}T\d{6}Z\.csv"/,
    );
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder().decode(bytes.slice(3));
    const lines = text.split("\r\n").filter(Boolean);
    expect(lines[0]).toStartWith("id,createdAt,eventType,action,resourceType");
    expect(lines).toHaveLength(5);
    expect(text).toContain(`,'=cmd|' /C calc'!A0,`);
    expect(text).not.toMatch(/(^|,)=cmd/m);
    expect(text).toContain(`"{""name"":""+SUM(A1:A2)"",""password"":""***""}"`);

    const j = await get(`/export?resourceType=${resourceType}&format=json`);
    expect(j.headers.get("content-type")).toBe("application/json");
    const rows = (await j.json()) as { action: string }[];
    expect(rows.map((e) => e.action)).toEqual(["EXPORT", "LOGIN_FAILED", "UPDATE", "CREATE"]);

    const audited = await db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.resourceType, "audit_log"),
          eq(auditLog.action, "EXPORT"),
          eq(auditLog.userId, admin.id),
        ),
      );
    const mine = audited.filter((a) => (a.metadata as any)?.filter?.resourceType === resourceType);
    expect(mine.map((a) => (a.metadata as any).format).sort()).toEqual(["csv", "json"]);
    expect(mine[0]).toMatchObject({ eventType: "ACCESS", outcome: "success" });
  });

  test.skipIf(!usingPostgres)(
    "export: at most 100 000 rows, X-Export-Truncated: true when more matched; stable order across batches",
    async () => {
      const resourceType = `bulk_${newId().slice(-10)}`;
      await db.execute(sql`
        insert into audit_log (id, event_type, action, resource_type, created_at)
        select gen_random_uuid(), 'ACCESS', 'READ', ${resourceType},
               now() - (g % 500) * interval '1 second'
          from generate_series(1, 100005) g`);
      const res = await get(`/export?resourceType=${resourceType}`);
      expect(res.headers.get("x-export-truncated")).toBe("true");
      const lines = (await res.text()).split("\r\n").filter(Boolean);
      expect(lines).toHaveLength(100_001);
      const ids = new Set(lines.slice(1).map((l) => l.split(",")[0]));
      expect(ids.size).toBe(100_000);
      const user = await signIn(request, deps.config.secretKey);
      expect((await request(`${BASE}/export`, { headers: user.auth })).status).toBe(403);
    },
    60000,
  );
});
