import { afterAll, describe, expect, test } from "bun:test";
import { and, eq, inArray, sql } from "drizzle-orm";
import iconv from "iconv-lite";
import { auditLog, project, userAccount, userSession } from "@/db/schema";
import { newId } from "@/lib/ids";
import { migratedDatabase, testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit, signIn, uniqueEmail } from "./helpers/users";

/*
 * Bulk operations (api.md §2.12.9). A database of its own: the idle sweeps look at every account
 * and project, so rows of other test files (or earlier runs) must not be in reach.
 */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

const csvForm = (bytes: Uint8Array | string, name = "users.csv") => {
  const form = new FormData();
  form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]), name);
  return form;
};

describe("bulk operations", async () => {
  const iso = await migratedDatabase();
  afterAll(() => iso.drop());
  const db = iso.db;
  const { deps, request } = await testApp({}, {}, iso.handle);
  const admin = await json(await request("/api/v1/user_account/me", { headers: DEV }));
  const IMPORT = "/api/v1/admin/bulk/users/import";
  const importCsv = (bytes: Uint8Array | string, query = "", name = "users.csv") =>
    request(`${IMPORT}${query}`, { method: "POST", headers: DEV, body: csvForm(bytes, name) });
  const usersByEmail = async (emails: string[]) =>
    db
      .select()
      .from(userAccount)
      .where(
        inArray(
          sql`lower(${userAccount.email})`,
          emails.map((e) => e.toLowerCase()),
        ),
      );

  test("a Shift_JIS file with Japanese names creates import accounts without an oid", async () => {
    const a = uniqueEmail("sjis-a");
    const b = uniqueEmail("sjis-b");
    const text = `email,display_name\r\n${a},山田 太郎\r\n${b},佐藤 花子（営業部）\r\n`;
    const bytes = iconv.encode(text, "Shift_JIS");
    // Not valid UTF-8, so the Shift_JIS path is the one exercised.
    expect(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes)).toThrow();
    const res = await importCsv(bytes);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ dryRun: false, totalRows: 2, created: 2, skipped: 0, failed: 0 });
    expect(body.rows.map((r: any) => [r.row, r.status])).toEqual([
      [2, "created"],
      [3, "created"],
    ]);
    const rows = await usersByEmail([a, b]);
    expect(rows.map((r) => r.displayName).sort()).toEqual(["佐藤 花子（営業部）", "山田 太郎"].sort());
    for (const r of rows) {
      expect(r).toMatchObject({
        source: "import",
        azureOid: null,
        roles: ["user"],
        isActive: true,
        loginCount: 0,
      });
      expect(body.rows.find((x: any) => x.email === r.email).userId).toBe(r.id);
    }
    const [audit] = await db
      .select()
      .from(auditLog)
      .where(
        and(eq(auditLog.action, "BULK_UPDATE"), sql`${auditLog.metadata}->>'operation' = 'users.import'`),
      );
    expect(audit).toMatchObject({ eventType: "DATA_CHANGE", severity: "WARNING", userId: admin.id });
    expect((audit.metadata as any).counts).toEqual({ created: 2, skipped: 0, failed: 0 });
  });

  test("UTF-8 with BOM and roles: duplicates in the file and in the database are skipped, bad rows fail alone", async () => {
    const existing = await signIn(request, deps.config.secretKey);
    const fresh = uniqueEmail("bom");
    const adminRow = uniqueEmail("bom-admin");
    const text = [
      "Email,Display_Name,Roles",
      `${fresh},Ünïcödé 名前,user`,
      `${fresh.toUpperCase()},Again,`, // same address, other case
      `${existing.email.toUpperCase()},Exists,user`,
      `${adminRow},Admin Person,system_admin;user`,
      "not-an-email,Bad,user",
      `${uniqueEmail("role")},Bad role,superuser`,
      `${uniqueEmail("shape")},Too,many,cells`,
    ].join("\n");
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
    const res = await importCsv(bytes);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ totalRows: 7, created: 2, skipped: 2, failed: 3 });
    expect(body.rows.map((r: any) => [r.row, r.status, r.code ?? null])).toEqual([
      [2, "created", null],
      [3, "skipped", "DUPLICATE_IN_FILE"],
      [4, "skipped", "EMAIL_EXISTS"],
      [5, "created", null],
      [6, "failed", "EMAIL_INVALID"],
      [7, "failed", "ROLE_INVALID"],
      [8, "failed", "ROW_SHAPE_INVALID"],
    ]);
    const [created] = await usersByEmail([fresh]);
    expect(created.displayName).toBe("Ünïcödé 名前");
    const [promoted] = await usersByEmail([adminRow]);
    expect(promoted.roles).toEqual(["system_admin", "user"]);
    // The existing account was not touched.
    const [kept] = await usersByEmail([existing.email]);
    expect(kept.source).toBe("sso");
  });

  test("dryRun=true reports the same rows and writes nothing", async () => {
    const e = uniqueEmail("dry");
    const bulkAudits = async () =>
      (
        await db
          .select({ n: sql<number>`count(*)::int` })
          .from(auditLog)
          .where(eq(auditLog.action, "BULK_UPDATE"))
      )[0].n;
    const usersBefore = (await db.select({ n: sql<number>`count(*)::int` }).from(userAccount))[0].n;
    const auditsBefore = await bulkAudits();
    const res = await importCsv(`email,display_name\n${e},Dry Run\nbad,Bad\n`, "?dryRun=true");
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ dryRun: true, totalRows: 2, created: 1, failed: 1 });
    expect(body.rows[0].userId).toBeUndefined();
    expect(await usersByEmail([e])).toHaveLength(0);
    expect(await bulkAudits()).toBe(auditsBefore);
    expect((await db.select({ n: sql<number>`count(*)::int` }).from(userAccount))[0].n).toBe(usersBefore);
  });

  test("an imported account is linked by e-mail at its first sign-in (same id, oid set)", async () => {
    const e = uniqueEmail("link");
    const body = await json(await importCsv(`email,display_name\n${e},Imported Name\n`));
    const importedId = body.rows[0].userId;
    // Sign in with the address in another case: the match is case-insensitive.
    const user = await signIn(request, deps.config.secretKey, e.toUpperCase(), "Directory Name");
    expect(user.id).toBe(importedId);
    const [row] = await usersByEmail([e]);
    expect(row.id).toBe(importedId);
    expect(row.azureOid).not.toBeNull();
    expect(row.source).toBe("import");
    expect(row.loginCount).toBe(1);
    expect(await usersByEmail([e])).toHaveLength(1);
  });

  test("413 over 2 MiB (declared and streamed), 415 for non-CSV, 422 for header, encoding and row limit", async () => {
    const header = "email,display_name\n";
    const big = header + "x".repeat(2 * 1024 * 1024 + 200 * 1024);
    const declared = await importCsv(big);
    expect(declared.status).toBe(413);
    expect((await json(declared)).code).toBe("PAYLOAD_TOO_LARGE");
    // Over the app-wide upload limit too: still this route's code, not FILE_TOO_LARGE.
    const huge = await importCsv(header + "x".repeat(11 * 1024 * 1024));
    expect(huge.status).toBe(413);
    expect((await json(huge)).code).toBe("PAYLOAD_TOO_LARGE");
    // Under the declared cap (file + multipart overhead), over the file cap: refused while read.
    const streamed = await importCsv(header + "x".repeat(2 * 1024 * 1024 + 10 * 1024));
    expect(streamed.status).toBe(413);
    expect((await json(streamed)).code).toBe("PAYLOAD_TOO_LARGE");

    const txt = await importCsv(`${header}a@b.cd,A\n`, "", "users.txt");
    expect(txt.status).toBe(415);
    expect((await json(txt)).code).toBe("UNSUPPORTED_FILE_TYPE");
    const binary = await importCsv(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]));
    expect(binary.status).toBe(415);
    expect((await json(binary)).code).toBe("UNSUPPORTED_FILE_TYPE");

    for (const bad of [
      "mail,name\na@b.cd,A\n",
      "email\na@b.cd\n",
      "email,display_name,roles,extra\na@b.cd,A,user,x\n",
      "",
      'email,display_name\n"unterminated,A\n',
    ]) {
      const res = await importCsv(bad);
      expect(res.status).toBe(422);
      expect((await json(res)).code).toBe("CSV_INVALID");
    }
    // Neither UTF-8 nor Shift_JIS (0xFF is no lead byte in either); UTF-16 is refused too.
    for (const bytes of [
      new Uint8Array([...new TextEncoder().encode(header), 0xff, 0xfe, 0xfd, 0x0a]),
      new Uint8Array([0xff, 0xfe, ...iconv.encode(`${header}a@b.cd,A\n`, "utf-16le")]),
    ]) {
      const res = await importCsv(bytes);
      expect(res.status).toBe(422);
      expect((await json(res)).code).toBe("CSV_INVALID");
    }
    const many = header + Array.from({ length: 1001 }, (_, i) => `u${i}@limit.example.com,U${i}`).join("\n");
    const limit = await importCsv(many);
    expect(limit.status).toBe(422);
    expect((await json(limit)).code).toBe("BULK_LIMIT_EXCEEDED");
    expect(await usersByEmail(["u0@limit.example.com"])).toHaveLength(0);
    const exactly =
      header + Array.from({ length: 1000 }, (_, i) => `u${i}@limit.example.com,U${i}`).join("\n");
    const ok = await importCsv(exactly, "?dryRun=true");
    expect(ok.status).toBe(200);
    expect((await json(ok)).created).toBe(1000);

    const notMultipart = await request(IMPORT, jsonInit("POST", { file: "x" }, DEV));
    expect(notMultipart.status).toBe(415);
    const noFile = new FormData();
    noFile.append("other", "x");
    const missing = await request(IMPORT, { method: "POST", headers: DEV, body: noFile });
    expect(missing.status).toBe(400);
    expect((await json(missing)).code).toBe("MALFORMED_REQUEST");
  });

  test("export streams the accounts as CSV with formula injection neutralised, and is audited", async () => {
    const e = uniqueEmail("inj");
    await importCsv(`email,display_name\n${e},"=HYPERLINK(""http://x"",""y"")"\n`);
    const res = await request("/api/v1/admin/bulk/users/export", { headers: DEV });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toContain("attachment");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = new TextDecoder().decode(bytes.subarray(3)).split("\r\n");
    expect(lines[0]).toBe("id,email,display_name,roles,is_active,last_login_at,created_at");
    const line = lines.find((l) => l.includes(e))!;
    const [row] = await usersByEmail([e]);
    expect(line).toBe(
      `${row.id},${e},"'=HYPERLINK(""http://x"",""y"")",user,true,,${row.createdAt.toISOString()}`,
    );
    const adminLine = lines.find((l) => l.startsWith(admin.id))!;
    expect(adminLine).toContain(",system_admin;user,true,");
    const total = (await db.select({ n: sql<number>`count(*)::int` }).from(userAccount))[0].n;
    expect(lines.filter((l) => l !== "").length).toBe(total + 1);

    const admins = await request("/api/v1/admin/bulk/users/export?role=system_admin&isActive=true", {
      headers: DEV,
    });
    const adminLines = (await admins.text()).split("\r\n").filter((l) => l !== "");
    expect(adminLines.slice(1).every((l) => l.includes("system_admin;user"))).toBe(true);
    expect(adminLines.some((l) => l.startsWith(admin.id))).toBe(true);

    const exports = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "EXPORT"), eq(auditLog.resourceType, "user_account")));
    expect(exports.length).toBe(2);
  });

  /* Makes an account look idle for `days`: login, creation and session activity moved back. */
  async function makeIdle(userId: string, days: number) {
    await db
      .update(userAccount)
      .set({ lastLoginAt: ago(days), createdAt: ago(days + 1) })
      .where(eq(userAccount.id, userId));
    await db
      .update(userSession)
      .set({ lastActivityAt: ago(days) })
      .where(eq(userSession.userId, userId));
  }

  test("deactivate: a dry run lists idle users only (never admins or the caller); executing ends their sessions", async () => {
    const idle = await signIn(request, deps.config.secretKey, uniqueEmail("idle"));
    const busy = await signIn(request, deps.config.secretKey, uniqueEmail("busy"));
    const idleAdmin = await signIn(request, deps.config.secretKey, uniqueEmail("idle-admin"));
    // Signed in long ago, but active in a session since: not idle.
    const recentSession = await signIn(request, deps.config.secretKey, uniqueEmail("recent"));
    await db
      .update(userAccount)
      .set({ roles: ["system_admin", "user"] })
      .where(eq(userAccount.id, idleAdmin.id));
    await makeIdle(idle.id, 100);
    await makeIdle(idleAdmin.id, 100);
    await makeIdle(admin.id, 100);
    await db
      .update(userAccount)
      .set({ lastLoginAt: ago(100), createdAt: ago(101) })
      .where(eq(userAccount.id, recentSession.id));
    // A brand-new import that never signed in is not idle either (created after the cutoff).
    await importCsv(`email,display_name\n${uniqueEmail("new-import")},New\n`);
    await deps.cache.delete(`user:${idleAdmin.id}`);

    const dry = await request(
      "/api/v1/admin/bulk/users/deactivate",
      jsonInit("POST", { inactiveDays: 90 }, DEV),
    );
    expect(dry.status).toBe(200);
    const listed = await json(dry);
    expect(listed.dryRun).toBe(true);
    const ids = listed.users.map((u: any) => u.id);
    expect(ids).toContain(idle.id);
    for (const id of [busy.id, idleAdmin.id, admin.id, recentSession.id]) expect(ids).not.toContain(id);
    expect(listed).toMatchObject({ count: ids.length, truncated: false });
    expect(Math.abs(Date.parse(listed.cutoff) - ago(90).getTime())).toBeLessThan(60_000);
    // Nothing changed: the idle user still works.
    expect((await request("/api/v1/user_account/me", { headers: idle.auth })).status).toBe(200);
    await makeIdle(idle.id, 100);

    const run = await request(
      "/api/v1/admin/bulk/users/deactivate",
      jsonInit("POST", { inactiveDays: 90, dryRun: false, reason: "left the company" }, DEV),
    );
    expect(run.status).toBe(200);
    const done = await json(run);
    expect(done.dryRun).toBe(false);
    expect(done.users.map((u: any) => u.id)).toEqual(ids);
    const [row] = await db.select().from(userAccount).where(eq(userAccount.id, idle.id));
    expect(row.isActive).toBe(false);
    expect(row.deactivatedAt).not.toBeNull();
    const sessions = await db.select().from(userSession).where(eq(userSession.userId, idle.id));
    expect(sessions.length).toBeGreaterThan(0);
    for (const s of sessions) expect(s).toMatchObject({ endReason: "DEACTIVATED", endedBy: admin.id });
    const next = await request("/api/v1/user_account/me", { headers: idle.auth });
    expect(next.status).toBe(403);
    expect((await json(next)).code).toBe("ACCOUNT_DISABLED");
    for (const u of [busy, idleAdmin, recentSession]) {
      expect((await request("/api/v1/user_account/me", { headers: u.auth })).status).toBe(200);
    }
    expect((await request("/api/v1/user_account/me", { headers: DEV })).status).toBe(200);

    const audits = await db.select().from(auditLog).where(eq(auditLog.resourceId, idle.id));
    expect(audits.map((a) => a.action)).toContain("USER_DEACTIVATE");
    const [bulk] = await db
      .select()
      .from(auditLog)
      .where(sql`${auditLog.metadata}->>'operation' = 'users.deactivate'`);
    expect(bulk).toMatchObject({ action: "BULK_UPDATE", eventType: "DATA_CHANGE", userId: admin.id });
    expect((bulk.metadata as any).counts).toEqual({ deactivated: ids.length });

    const again = await json(
      await request("/api/v1/admin/bulk/users/deactivate", jsonInit("POST", { inactiveDays: 90 }, DEV)),
    );
    expect(again.count).toBe(0);
    expect(
      (await request("/api/v1/admin/bulk/users/deactivate", jsonInit("POST", { inactiveDays: 0 }, DEV)))
        .status,
    ).toBe(422);
  });

  test("archive: a dry run lists idle active projects; executing makes them read-only", async () => {
    const create = async (code: string) =>
      json(await request("/api/v1/project", jsonInit("POST", { name: `P ${code}`, code }, DEV)));
    const old = await create(`OLD-${newId().slice(-6)}`);
    const young = await create(`NEW-${newId().slice(-6)}`);
    const alreadyInactive = await create(`OFF-${newId().slice(-6)}`);
    await db
      .update(project)
      .set({ lastActivityAt: ago(200) })
      .where(eq(project.id, old.id));
    await db
      .update(project)
      .set({ lastActivityAt: ago(200), isActive: false })
      .where(eq(project.id, alreadyInactive.id));
    // Warm the project cache, so the execute must invalidate it.
    expect((await request(`/api/v1/project/${old.id}`, { headers: DEV })).status).toBe(200);
    await db
      .update(project)
      .set({ lastActivityAt: ago(200) })
      .where(eq(project.id, old.id));

    const dry = await json(
      await request("/api/v1/admin/bulk/projects/archive", jsonInit("POST", { inactiveDays: 180 }, DEV)),
    );
    expect(dry).toMatchObject({ dryRun: true, count: 1, truncated: false });
    expect(dry.projects).toEqual([
      { id: old.id, name: old.name, code: old.code, lastActivityAt: expect.any(String) },
    ]);
    const [still] = await db.select().from(project).where(eq(project.id, old.id));
    expect(still.isActive).toBe(true);

    const run = await json(
      await request(
        "/api/v1/admin/bulk/projects/archive",
        jsonInit("POST", { inactiveDays: 180, dryRun: false }, DEV),
      ),
    );
    expect(run).toMatchObject({ dryRun: false, count: 1 });
    const rows = await db
      .select()
      .from(project)
      .where(inArray(project.id, [old.id, young.id]));
    expect(Object.fromEntries(rows.map((r) => [r.id, r.isActive]))).toEqual({
      [old.id]: false,
      [young.id]: true,
    });
    const write = await request(
      `/api/v1/project/${old.id}/member`,
      jsonInit("POST", { userId: admin.id, role: "member" }, DEV),
    );
    expect(write.status).toBe(409);
    expect((await json(write)).code).toBe("PROJECT_INACTIVE");
    const [bulk] = await db
      .select()
      .from(auditLog)
      .where(sql`${auditLog.metadata}->>'operation' = 'projects.archive'`);
    expect((bulk.metadata as any).projectIds).toEqual([old.id]);
  });

  test("non-admins get 403 on the bulk routes", async () => {
    const u = await signIn(request, deps.config.secretKey);
    expect((await request("/api/v1/admin/bulk/users/export", { headers: u.auth })).status).toBe(403);
    const imp = await request(IMPORT, {
      method: "POST",
      headers: u.auth,
      body: csvForm("email,display_name\n"),
    });
    expect(imp.status).toBe(403);
    const deact = await request(
      "/api/v1/admin/bulk/users/deactivate",
      jsonInit("POST", { inactiveDays: 1 }, u.auth),
    );
    expect(deact.status).toBe(403);
  });
});
