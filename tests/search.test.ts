import { afterAll, describe, expect, test } from "bun:test";
import { and, eq, sql } from "drizzle-orm";
import { rowsOf } from "@/db/client";
import { auditLog } from "@/db/schema";
import { newId } from "@/lib/ids";
import { highlight } from "@/modules/search/service";
import { seedIssue } from "./helpers/analysis";
import { migratedDatabase, testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { insertFileChain, insertProject, insertSession, insertTree } from "./helpers/rows";
import { signIn } from "./helpers/users";

/*
 * Search (api.md §2.11) over a world written straight into a database of its own, so a system
 * admin's "every project" is exactly what this file created.
 */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
type Hit = {
  type: string;
  id: string;
  name: string;
  description: string | null;
  matchedField: string;
  highlightedText: string;
  projectId: string;
  projectName: string;
  updatedAt: string;
  url: string;
};

describe("search", async () => {
  const iso = await migratedDatabase();
  afterAll(() => iso.drop());
  const db = iso.db;
  const { deps, request } = await testApp({}, {}, iso.handle);
  const secret = deps.config.secretKey;
  const alice = await signIn(request, secret);
  const bob = await signIn(request, secret);
  const outsider = await signIn(request, secret);
  const issue = await seedIssue(db);

  const search = async (auth: Record<string, string>, params: Record<string, string | number>) => {
    const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
    const res = await request(`/api/v1/search?${qs}`, { headers: auth });
    return { status: res.status, body: await json(res) };
  };
  const hits = async (auth: Record<string, string>, params: Record<string, string | number>) => {
    const r = await search(auth, { limit: 500, ...params });
    expect(r.status).toBe(200);
    return r.body.items as Hit[];
  };

  /* One object of every type whose searched field contains "zeta", in each of two projects. */
  const t0 = Date.parse("2026-06-01T00:00:00.000Z");
  const at = (minutes: number) => new Date(t0 + minutes * 60_000);
  async function fourOf(owner: string, label: string, base: number) {
    const projectId = await insertProject(db, { name: `${label} Zeta project`, at: at(base) }, [
      [owner, "project_manager"],
    ]);
    const sessionId = await insertSession(db, projectId, issue.id, {
      name: `${label} zeta session`,
      at: at(base + 1),
    });
    const [fileId] = await insertFileChain(db, projectId, [`${label}-ZETA.csv`], { at: at(base + 2) });
    const treeId = await insertTree(db, projectId, {
      name: `${label} tree`,
      description: `about zeta`,
      at: at(base + 3),
    });
    return { projectId, sessionId, fileId: fileId as string, treeId };
  }
  const a = await fourOf(alice.id, "Alpha", 0);
  const b = await fourOf(bob.id, "Bravo", 10);

  test("each caller sees every type of object in their own projects and nothing of anyone else's", async () => {
    const mine = await hits(alice.auth, { q: "zeta" });
    expect(mine.map((h) => [h.type, h.id]).sort()).toEqual(
      [
        ["project", a.projectId],
        ["session", a.sessionId],
        ["file", a.fileId],
        ["tree", a.treeId],
      ].sort(),
    );
    expect(mine.every((h) => h.projectId === a.projectId && h.projectName === "Alpha Zeta project")).toBe(
      true,
    );
    const theirs = await hits(bob.auth, { q: "zeta" });
    expect(theirs).toHaveLength(4);
    expect(theirs.every((h) => h.projectId === b.projectId)).toBe(true);
    expect(await hits(outsider.auth, { q: "zeta" })).toEqual([]);
    // Walked one at a time, per type: still nothing from Bravo's project.
    for (const type of ["project", "session", "file", "tree"]) {
      for (let skip = 0; skip < 3; skip++) {
        const r = await search(alice.auth, { q: "ZETA", types: type, limit: 1, skip });
        expect(r.status).toBe(200);
        expect(r.body.total).toBe(1);
        expect(r.body.types).toEqual([type]);
        for (const h of r.body.items as Hit[]) expect(h.projectId).toBe(a.projectId);
      }
    }
  });

  test("a system admin searches every project", async () => {
    const all = await hits(DEV, { q: "zeta" });
    expect(new Set(all.map((h) => h.projectId))).toEqual(new Set([a.projectId, b.projectId]));
    expect(all).toHaveLength(8);
    const onlyB = await hits(DEV, { q: "zeta", projectId: b.projectId });
    expect(onlyB).toHaveLength(4);
  });

  test("projectId outside the caller's scope is 404 PROJECT_NOT_FOUND, existing or not; the refusal is audited", async () => {
    for (const projectId of [b.projectId, newId()]) {
      const r = await search(alice.auth, { q: "zeta", projectId });
      expect(r.status).toBe(404);
      expect(r.body.code).toBe("PROJECT_NOT_FOUND");
    }
    const denied = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, alice.id), eq(auditLog.outcome, "denied")));
    expect(denied.map((d) => d.projectId)).toEqual([b.projectId]);
    expect((await hits(alice.auth, { q: "zeta", projectId: a.projectId })).length).toBe(4);
  });

  test("hits carry the matched field, a url and the project's name; inactive projects are not hits", async () => {
    const p = await insertProject(
      db,
      { name: "Plain", code: "KAPPA-1", description: "the kappa study", isActive: true, at: at(100) },
      [[alice.id, "viewer"]],
    );
    await insertProject(db, { name: "Kappa closed", isActive: false, at: at(101) }, [[alice.id, "viewer"]]);
    const found = await hits(alice.auth, { q: "kappa", types: "project" });
    expect(found).toEqual([
      {
        type: "project",
        id: p,
        name: "Plain",
        description: "the kappa study",
        matchedField: "code",
        highlightedText: "<mark>KAPPA</mark>-1",
        projectId: p,
        projectName: "Plain",
        updatedAt: at(100).toISOString(),
        url: `/projects/${p}`,
      },
    ]);
    const tree = (await hits(alice.auth, { q: "zeta", types: "tree,file" })).find((h) => h.type === "tree");
    expect(tree).toMatchObject({ matchedField: "description", highlightedText: "about <mark>zeta</mark>" });
    expect(tree?.url).toBe(`/projects/${a.projectId}/driver-trees/${a.treeId}`);
  });

  test("% _ and \\ match themselves", async () => {
    const p = await insertProject(db, { name: "Wildcards", at: at(200) }, [[alice.id, "member"]]);
    for (const name of [
      "100%_done.csv",
      "100x done.csv",
      "a_b.csv",
      "axb.csv",
      "back\\slash.csv",
      "backxslash.csv",
    ]) {
      await insertFileChain(db, p, [name], { at: at(201) });
    }
    const names = async (q: string) =>
      (await hits(alice.auth, { q, types: "file", projectId: p })).map((h) => h.name).sort();
    expect(await names("0%")).toEqual(["100%_done.csv"]);
    expect(await names("%_")).toEqual(["100%_done.csv"]);
    expect(await names("a_b")).toEqual(["a_b.csv"]);
    expect(await names("k\\s")).toEqual(["back\\slash.csv"]);
    expect(await names("0x")).toEqual(["100x done.csv"]);
  });

  test("Japanese text and 2-character queries match (no trigram to use: the index is skipped, not wrong)", async () => {
    const p = await insertProject(
      db,
      { name: "売上分析プロジェクト", description: "月次の売上", at: at(250) },
      [[alice.id, "member"]],
    );
    await insertFileChain(db, p, ["２０２４年度_売上明細.xlsx"], { at: at(251) });
    const found = await hits(alice.auth, { q: "売上", projectId: p });
    expect(found.map((h) => [h.type, h.highlightedText])).toEqual([
      ["file", "２０２４年度_<mark>売上</mark>明細.xlsx"],
      ["project", "<mark>売上</mark>分析プロジェクト"],
    ]);
    expect((await hits(alice.auth, { q: "分析プロ", projectId: p })).map((h) => h.type)).toEqual(["project"]);
  });

  test("HTML in a name comes back escaped, with the mark on the right characters", async () => {
    const p = await insertProject(db, { name: "<script>alert(1)</script> Omega", at: at(300) }, [
      [alice.id, "member"],
    ]);
    const [hit] = await hits(alice.auth, { q: "script", types: "project", projectId: p });
    expect(hit?.highlightedText).toBe("&lt;<mark>script</mark>&gt;alert(1)&lt;/script&gt; Omega");
    expect(hit?.name).toBe("<script>alert(1)</script> Omega");
    const [lt] = await hits(alice.auth, { q: "<SC", types: "project", projectId: p });
    expect(lt?.highlightedText).toBe("<mark>&lt;sc</mark>ript&gt;alert(1)&lt;/script&gt; Omega");
    // Unit level: a match never lands inside an entity, and regex characters are literal.
    expect(highlight("a&b amp", "amp")).toBe("a&amp;b <mark>amp</mark>");
    expect(highlight('"x" & (y)', "& (")).toBe("&quot;x&quot; <mark>&amp; (</mark>y)");
    expect(highlight("nothing", "zz")).toBe("nothing");
  });

  test("hits of all types are merged newest first (ties by id) and paged; total counts them all", async () => {
    const p = await insertProject(db, { name: "Order sigma", at: at(400) }, [[alice.id, "member"]]);
    await insertSession(db, p, issue.id, { name: "sigma s1", at: at(405) });
    await insertFileChain(db, p, ["sigma-f1.csv"], { at: at(403) });
    await insertTree(db, p, { name: "sigma t1", at: at(401) });
    await insertSession(db, p, issue.id, { name: "sigma s2", at: at(402) });
    // Two at the same instant: ordered by id, descending.
    const tie1 = await insertTree(db, p, { name: "sigma tie", at: at(404) });
    const tie2 = await insertSession(db, p, issue.id, { name: "sigma tie", at: at(404) });
    const all = await hits(alice.auth, { q: "sigma" });
    expect(all.map((h) => h.updatedAt)).toEqual(
      [405, 404, 404, 403, 402, 401, 400].map((m) => at(m).toISOString()),
    );
    expect(all.slice(1, 3).map((h) => h.id)).toEqual([tie1, tie2].sort().reverse());
    const paged: Hit[] = [];
    for (let skip = 0; skip < 9; skip += 2) {
      const r = await search(alice.auth, { q: "sigma", skip, limit: 2 });
      expect(r.body).toMatchObject({ total: 7, skip, limit: 2, query: "sigma" });
      expect(r.body.types).toEqual(["project", "session", "file", "tree"]);
      paged.push(...r.body.items);
    }
    expect(paged).toEqual(all);
  });

  test("files match on the latest version's name only, dated by its upload", async () => {
    const p = await insertProject(db, { name: "Versions", at: at(500) }, [[alice.id, "member"]]);
    await insertFileChain(db, p, ["old-theta-name.csv", "renamed.csv"], { at: at(501) });
    const ids = await insertFileChain(db, p, ["first.csv", "theta-latest.csv"], { at: at(502) });
    const found = await hits(alice.auth, { q: "theta", projectId: p });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      type: "file",
      id: ids[1],
      name: "theta-latest.csv",
      matchedField: "originalFilename",
      updatedAt: new Date(at(502).getTime() + 1).toISOString(),
    });
    expect(found[0]?.url).toMatch(new RegExp(`^/projects/${p}/files/[0-9a-f-]{36}$`));
  });

  test("input rules: 2–100 characters after trimming, known types only", async () => {
    const bad: Record<string, string>[] = [
      { q: "a" },
      { q: "  a  " },
      { q: "x".repeat(101) },
      { q: "ab", types: "project,user" },
    ];
    for (const params of bad) {
      const r = await search(alice.auth, params);
      expect(r.status).toBe(422);
      expect(r.body.code).toBe("VALIDATION_FAILED");
    }
    expect((await search({}, { q: "zeta" })).status).toBe(401);
    const trimmed = await search(alice.auth, { q: "  zeta " });
    expect(trimmed.body.query).toBe("zeta");
    expect(trimmed.body.total).toBe(4);
  });

  test("the trigram indexes exist and serve the search's predicate shape", async () => {
    const ext = rowsOf<{ extname: string }>(
      await db.execute(sql`select extname from pg_extension where extname = 'pg_trgm'`),
    );
    expect(ext).toHaveLength(1);
    // Enough rows that a scan is dearer than the index, analysed, and a selective pattern.
    const p = await insertProject(db, { name: "Bulk", at: at(600) });
    await iso.handle.raw.query(
      `insert into project_file (id, project_id, chain_id, version, is_latest, filename, original_filename,
         storage_key, kind, mime_type, size_bytes, checksum_sha256)
       select gen_random_uuid(), $1, gen_random_uuid(), 1, true, 'f', 'report-' || g || '.csv',
         'bulk/' || g, 'csv', 'text/csv', 1, repeat('0', 64)
       from generate_series(1, 5000) g`,
      [p],
    );
    // VACUUM, not only ANALYZE: GIN keeps its entry statistics in the metapage, updated by vacuum.
    await iso.handle.raw.script("vacuum analyze project_file");
    const plan = await iso.handle.raw.query<{ "QUERY PLAN": string }>(
      "explain select id from project_file f where f.is_latest and lower(f.original_filename) like lower('%qzx%')",
    );
    expect(plan.map((r) => r["QUERY PLAN"]).join("\n")).toContain("ix_project_file_name_trgm");
  });
});
