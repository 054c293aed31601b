import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { projectFile, projectMember } from "@/db/schema";
import { testApp, testConfig } from "./helpers/context";
import { usingPostgres } from "./helpers/env";
import { uploadForm, xlsxBytes } from "./helpers/files";
import { jsonInit, signIn } from "./helpers/users";

/*
 * Issue 13 item 2: a write whose COMMIT succeeded must answer 2xx even when the database goes
 * away right after it. The services used to read the answer in a second round trip after COMMIT,
 * which answered 503 for a saved write (and for new versions deleted the stored object the
 * committed row points at). Here the database "goes away" by opening the real circuit breaker the
 * moment a transaction resolves: every later query is refused, as during a restart.
 */

describe("writes that committed answer 2xx when the database drops afterwards", async () => {
  // (describe.skipIf with an async body never finishes its tests on Bun 1.4.5.)
  if (!usingPostgres) {
    test.skip("needs PostgreSQL: the fault is the real circuit breaker", () => {});
    return;
  }
  const base = await openDatabase(testConfig());
  let armed = false;
  const db = new Proxy(base.db, {
    get(target, prop) {
      if (prop === "transaction") {
        return async (...args: unknown[]) => {
          const result = await (target.transaction as (...a: unknown[]) => Promise<unknown>)(...args);
          if (armed) {
            armed = false;
            base.breaker!.trip(new Error("database lost after COMMIT (test)"));
          }
          return result;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const database: DatabaseHandle = { ...base, db };
  const { request, deps } = await testApp({}, {}, database);
  const json = async (res: Response) => (await res.json()) as any;
  const settle = async () => {
    for (let i = 0; i < 40 && base.breaker!.isOpen; i++) await Bun.sleep(50);
    expect(base.breaker!.isOpen).toBe(false);
  };

  const manager = await signIn(request, deps.config.secretKey);
  const other = await signIn(request, deps.config.secretKey);
  const created = await request(
    "/api/v1/project",
    jsonInit("POST", { name: "Committed", code: `C-${manager.id.slice(-10)}` }, manager.auth),
  );
  const project = await json(created);
  const projectBase = `/api/v1/project/${project.id}`;

  test("member add and role change", async () => {
    armed = true;
    const add = await request(
      `${projectBase}/member`,
      jsonInit("POST", { userId: other.id, role: "viewer" }, manager.auth),
    );
    const member = await json(add);
    expect({ status: add.status, code: member.code }).toEqual({ status: 201, code: undefined });
    expect(base.breaker!.isOpen).toBe(true); // the fault really happened after the commit
    await settle();

    armed = true;
    const patch = await request(
      `${projectBase}/member/${member.id}`,
      jsonInit("PATCH", { role: "member" }, manager.auth),
    );
    expect({ status: patch.status, role: (await json(patch)).role }).toEqual({
      status: 200,
      role: "member",
    });
    expect(base.breaker!.isOpen).toBe(true);
    await settle();
    const [row] = await base.db.select().from(projectMember).where(eq(projectMember.id, member.id));
    expect(row.role).toBe("member");
  });

  test("file upload and new version; the stored object stays with its row", async () => {
    const bytes = await xlsxBytes({ A: [["x"], [1]] });
    armed = true;
    const up = await request(`${projectBase}/file`, {
      method: "POST",
      body: uploadForm("a.xlsx", bytes),
      headers: manager.auth,
    });
    const v1 = await json(up);
    expect({ status: up.status, code: v1.code }).toEqual({ status: 201, code: undefined });
    expect(base.breaker!.isOpen).toBe(true);
    await settle();

    armed = true;
    const ver = await request(`${projectBase}/file/${v1.id}/version`, {
      method: "POST",
      body: uploadForm("a.xlsx", await xlsxBytes({ A: [["x"], [2]] })),
      headers: manager.auth,
    });
    const v2 = await json(ver);
    expect({ status: ver.status, version: v2.version }).toEqual({ status: 201, version: 2 });
    expect(base.breaker!.isOpen).toBe(true);
    await settle();
    const [row] = await base.db.select().from(projectFile).where(eq(projectFile.id, v2.id));
    expect(await deps.storage.exists("uploads", row.storageKey)).toBe(true);
    const download = await request(`${projectBase}/file/${v2.id}/download`, { headers: manager.auth });
    expect(download.status).toBe(200);
  });
});
