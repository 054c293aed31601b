import { describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { projectFile, userAccount } from "@/db/schema";
import { signDevToken } from "@/lib/auth/dev-token";
import { testApp } from "./helpers/context";
import { uploadForm, xlsxBytes } from "./helpers/files";
import { jsonInit, signIn, uniqueEmail } from "./helpers/users";
import { bombWorkbook } from "./helpers/zip-bomb";

/*
 * Hostile input (issue 13, items 3–6 and 9): zip bombs through file compare, deep JSON before
 * authentication, values PostgreSQL refuses, concurrent identical writes and `sid` reuse. Each
 * case answers quickly with a 2xx, a documented 4xx or 409, and problem+json — never a 5xx.
 */

const MiB = 1024 * 1024;
const json = async (res: Response) => (await res.json()) as any;

/** Runs `work` while polling /health every 5 ms; returns its result and the longest gap seen. */
async function withHealthWatch<T>(
  request: (path: string) => Promise<Response>,
  work: () => Promise<T>,
): Promise<{ result: T; maxGapMs: number; elapsedMs: number }> {
  let running = true;
  let maxGapMs = 0;
  const watcher = (async () => {
    let last = performance.now();
    while (running) {
      await new Promise((r) => setTimeout(r, 5));
      const res = await request("/health");
      await res.arrayBuffer();
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
    }
  })();
  const started = performance.now();
  try {
    const result = await work();
    return { result, maxGapMs, elapsedMs: performance.now() - started };
  } finally {
    running = false;
    await watcher;
  }
}

const expectProblem = async (res: Response, status: number, code?: string) => {
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  const body = await json(res);
  expect(body.status).toBe(status);
  expect(res.status).toBe(status);
  if (code) expect(body.code).toBe(code);
  return body;
};

describe("hostile input", async () => {
  const { request, deps } = await testApp();
  const secret = deps.config.secretKey;
  const db = deps.database.db;

  async function projectWithFile() {
    const user = await signIn(request, secret);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "Hostile", code: `H-${user.id.slice(-10)}` }, user.auth),
      ),
    );
    const base = `/api/v1/project/${project.id}/file`;
    const v1 = await json(
      await request(base, {
        method: "POST",
        body: uploadForm("book.xlsx", await xlsxBytes({ A: [["x"], [1]] })),
        headers: user.auth,
      }),
    );
    expect(v1.version).toBe(1);
    return { user, project, base, v1 };
  }

  describe("zip bomb through file compare", () => {
    for (const c of [
      { label: "a sheet the directory admits to be 320 MiB", mib: 320, honest: true, target: "sheet" },
      { label: "a 256 MiB sheet the directory claims is 1 KB", mib: 256, honest: false, target: "sheet" },
      { label: "a 256 MiB workbook part the directory hides", mib: 256, honest: false, target: "workbook" },
    ] as const) {
      test(`${c.label}: answered quickly, RSS and /health unmoved`, async () => {
        const { user, base, v1 } = await projectWithFile();
        const bomb = bombWorkbook(c);
        expect(bomb.length).toBeLessThan(2 * MiB);
        const v2res = await request(`${base}/${v1.id}/version`, {
          method: "POST",
          body: uploadForm("book.xlsx", bomb),
          headers: user.auth,
        });
        expect(v2res.status).toBe(201);
        const v2 = await json(v2res);
        Bun.gc(true);
        const rssBefore = process.memoryUsage.rss();
        const { result, maxGapMs, elapsedMs } = await withHealthWatch(request, async () => {
          const res = await request(`${base}/${v1.id}/compare?base=${v1.id}&target=${v2.id}`, {
            headers: user.auth,
          });
          return { status: res.status, type: res.headers.get("content-type"), body: await json(res) };
        });
        const rssMovedMiB = (process.memoryUsage.rss() - rssBefore) / MiB;
        console.log(
          `zip bomb (${c.label}): ${result.status} ${result.body.code ?? ""} in ${elapsedMs.toFixed(0)} ms, ` +
            `RSS +${rssMovedMiB.toFixed(1)} MiB, /health max gap ${maxGapMs.toFixed(0)} ms`,
        );
        if (c.honest || c.target === "workbook") {
          expect(result.status).toBe(422);
          expect(result.type).toContain("application/problem+json");
          expect(result.body.code).toBe("ANALYSIS_LIMIT_EXCEEDED");
        } else {
          // Only the sheet's head is inflated: the outline is answered, the bomb never expanded.
          expect(result.status).toBe(200);
          expect(result.body.sheets.common).toEqual([]);
        }
        expect(elapsedMs).toBeLessThan(1000);
        expect(rssMovedMiB).toBeLessThan(50);
        expect(maxGapMs).toBeLessThan(100);
      });
    }
  });

  describe("deeply nested JSON", () => {
    const deep = (depth: number) => `{"name":${"[".repeat(depth)}${"]".repeat(depth)}}`;

    test("without a token: 401 in milliseconds, before the body is validated, /health unmoved", async () => {
      const id = crypto.randomUUID();
      for (const depth of [20_000, 50_000, 500_000]) {
        const { result, elapsedMs, maxGapMs } = await withHealthWatch(request, () =>
          request(`/api/v1/project/${id}`, {
            method: "PATCH",
            body: deep(depth),
            headers: { "content-type": "application/json" },
          }),
        );
        console.log(
          `deep JSON depth ${depth} without a token: ${elapsedMs.toFixed(0)} ms, /health gap ${maxGapMs.toFixed(0)} ms`,
        );
        await expectProblem(result, 401, "UNAUTHENTICATED");
        expect(result.headers.get("www-authenticate")).toContain("Bearer");
        expect(elapsedMs).toBeLessThan(500);
        expect(maxGapMs).toBeLessThan(100);
      }
      // An invalid (shallow) body without a token is a 401 too, not a 422.
      const invalid = await request(`/api/v1/project/${id}`, jsonInit("PATCH", { name: 5, nope: true }));
      await expectProblem(invalid, 401, "UNAUTHENTICATED");
    });

    test("with a token: 422 naming the depth limit; a step config of depth 10,000 is no 500", async () => {
      const { user, project } = await projectWithFile();
      const started = performance.now();
      const res = await request(`/api/v1/project/${project.id}`, {
        method: "PATCH",
        body: deep(50_000),
        headers: { "content-type": "application/json", ...user.auth },
      });
      const body = await expectProblem(res, 422, "VALIDATION_FAILED");
      expect(body.maxDepth).toBe(64);
      expect(performance.now() - started).toBeLessThan(500);
      const sessions = await request(
        `/api/v1/project/${project.id}/analysis/session/${crypto.randomUUID()}/step`,
        {
          method: "POST",
          body: `{"name":"s","type":"filter","config":${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}}`,
          headers: { "content-type": "application/json", ...user.auth },
        },
      );
      expect(sessions.status).toBeLessThan(500);
      expect(sessions.headers.get("content-type")).toContain("application/problem+json");
      // An ordinary body still passes.
      const ok = await request(
        `/api/v1/project/${project.id}`,
        jsonInit("PATCH", { description: "x", name: "n" }, user.auth),
      );
      expect(ok.status).toBe(200);
    });
  });

  describe("values PostgreSQL refuses", () => {
    test("NUL characters and lone surrogates: 422 naming the field", async () => {
      const { user, project, base } = await projectWithFile();
      const cases: [string, RequestInit, string][] = [
        ["/api/v1/project?q=%00", { headers: user.auth }, "/query/q"],
        [`${base}?q=a%00b`, { headers: user.auth }, "/query/q"],
        [
          "/api/v1/user_account/me",
          jsonInit("PATCH", { displayName: "a\u0000b" }, user.auth),
          "/body/displayName",
        ],
        [
          `/api/v1/project/${project.id}`,
          {
            method: "PATCH",
            body: '{"name":"a\\ud800b"}',
            headers: { "content-type": "application/json", ...user.auth },
          },
          "/body/name",
        ],
        [
          "/api/v1/project",
          {
            method: "POST",
            body: '{"name":"x","code":"LS-1","description":"\\udc00"}',
            headers: { "content-type": "application/json", ...user.auth },
          },
          "/body/description",
        ],
        [
          `/api/v1/project/${project.id}`,
          {
            method: "PATCH",
            body: '{"__proto__":{"isAdmin":true}}',
            headers: { "content-type": "application/json", ...user.auth },
          },
          "/body/__proto__",
        ],
        [
          base,
          { method: "POST", body: uploadForm("bad\u0000name.csv", "a\n1\n"), headers: user.auth },
          "/body/file/filename",
        ],
        [
          base,
          { method: "POST", body: uploadForm("ok.csv", "a\n1\n", "c\u0000"), headers: user.auth },
          "/body/comment",
        ],
      ];
      for (const [path, init, field] of cases) {
        const body = await expectProblem(await request(path, init), 422, "VALIDATION_FAILED");
        expect(body.errors.map((e: any) => e.path)).toContain(field);
      }
    });

    test("numbers past the integer range in skip/limit: 422, not a database error", async () => {
      const { user, base } = await projectWithFile();
      for (const q of ["skip=9223372036854775808", "skip=1e21", "skip=2147483648", "limit=1e21", "skip=-1"]) {
        for (const path of ["/api/v1/project", base]) {
          const body = await expectProblem(
            await request(`${path}?${q}`, { headers: user.auth }),
            422,
            "VALIDATION_FAILED",
          );
          expect(JSON.stringify(body)).not.toMatch(/select|insert|Failed query/i);
        }
      }
      expect((await request("/api/v1/project?skip=2147483647", { headers: user.auth })).status).toBe(200);
    });
  });

  describe("concurrent identical writes", () => {
    test("10 parallel new versions of one file: all 201, versions 2–11, one latest", async () => {
      const { user, base, v1 } = await projectWithFile();
      const bytes = await xlsxBytes({ A: [["x"], [2]] });
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          request(`${base}/${v1.id}/version`, {
            method: "POST",
            body: uploadForm("book.xlsx", bytes),
            headers: user.auth,
          }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
      const rows = await db.select().from(projectFile).where(eq(projectFile.chainId, v1.id));
      expect(rows.map((r) => r.version).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 11 }, (_, i) => i + 1),
      );
      expect(rows.filter((r) => r.isLatest).map((r) => r.version)).toEqual([11]);
    });

    test("10 parallel restores of one version: all 201, one latest", async () => {
      const { user, base, v1 } = await projectWithFile();
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          request(`${base}/${v1.id}/restore`, jsonInit("POST", { versionId: v1.id }, user.auth)),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
      const latest = await db
        .select()
        .from(projectFile)
        .where(and(eq(projectFile.chainId, v1.id), eq(projectFile.isLatest, true)));
      expect(latest.map((r) => r.version)).toEqual([11]);
    });

    test("a new user's 10 parallel first requests: all 200, one account", async () => {
      const email = uniqueEmail("first");
      const token = await signDevToken({ secretKey: secret, email, sid: `first-${crypto.randomUUID()}` });
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${token}` } }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      const ids = new Set(await Promise.all(responses.map(async (r) => (await json(r)).id)));
      expect(ids.size).toBe(1);
      const rows = await db.select().from(userAccount).where(eq(userAccount.email, email));
      expect(rows.length).toBe(1);
    });
  });

  test("two tokens with the same sid but different identities are different users", async () => {
    const sid = `shared-${crypto.randomUUID()}`;
    const a = await signDevToken({ secretKey: secret, email: uniqueEmail("sid-a"), sid });
    const b = await signDevToken({ secretKey: secret, email: uniqueEmail("sid-b"), sid });
    const meA = await json(
      await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${a}` } }),
    );
    const meB = await json(
      await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${b}` } }),
    );
    expect(meA.id).toBeString();
    expect(meB.id).toBeString();
    expect(meB.id).not.toBe(meA.id);
    // And the same identity with that sid is still the same session's user.
    const again = await json(
      await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${a}` } }),
    );
    expect(again.id).toBe(meA.id);
  });
});
