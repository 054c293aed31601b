import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import {
  analysisFile,
  analysisIssueMaster,
  analysisSession,
  analysisValidationMaster,
  projectFile,
  storageDeletionQueue,
} from "@/db/schema";
import { type Azurite, hasAzurite, startAzurite } from "./helpers/azurite";
import { testApp } from "./helpers/context";
import { EXE_BYTES, PNG_BYTES, sha256Hex, uploadForm, xlsxBytes } from "./helpers/files";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";
import { world as baseWorld } from "./helpers/world";

const MiB = 1024 * 1024;

describe("files and versions (local storage)", async () => {
  const root = mkdtempSync(join(tmpdir(), "camp-files-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const { request, deps } = await testApp({ MAX_FILE_SIZE_MB: "1", LOCAL_STORAGE_PATH: root });
  const secret = deps.config.secretKey;
  const db = deps.database.db;

  async function world() {
    const { project, users } = await baseWorld(
      request,
      secret,
      { project_moderator: "project_moderator", member: "member", viewer: "viewer" },
      "Files",
    );
    const base = `/api/v1/project/${project.id}/file`;
    const upload = (
      u: { auth: Record<string, string> },
      name: string,
      bytes: Uint8Array | string,
      path = base,
    ) => request(path, { method: "POST", body: uploadForm(name, bytes), headers: u.auth });
    return { project, users, base, upload };
  }

  test("upload → get → list → download returns identical bytes with RFC 6266 headers", async () => {
    const { users, base, upload } = await world();
    const bytes = await xlsxBytes({
      売上: [
        ["科目", "値"],
        ["売上", 100],
      ],
    });
    const name = "売上 データ（2024）.xlsx";
    const res = await upload(users.member, name, bytes);
    expect(res.status).toBe(201);
    const file = await json(res);
    expect(file).toMatchObject({
      version: 1,
      isLatest: true,
      kind: "xlsx",
      mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      originalFilename: name,
      sizeBytes: bytes.length,
      checksumSha256: await sha256Hex(bytes),
      versionCount: 1,
    });
    expect(file.chainId).toBe(file.id);
    expect(file.filename).not.toContain(" ");
    const list = await json(await request(`${base}?kind=xlsx,csv`, { headers: users.viewer.auth }));
    expect(list.items.map((f: any) => f.id)).toEqual([file.id]);
    const dl = await request(`${base}/${file.id}/download`, { headers: users.viewer.auth });
    expect(dl.status).toBe(200);
    expect(dl.headers.get("content-length")).toBe(String(bytes.length));
    expect(dl.headers.get("etag")).toBe(`"${file.checksumSha256}"`);
    expect(dl.headers.get("cache-control")).toBe("private, no-cache");
    expect(dl.headers.get("x-content-type-options")).toBe("nosniff");
    const cd = dl.headers.get("content-disposition")!;
    expect(cd).toStartWith('attachment; filename="');
    expect(decodeURIComponent(cd.split("filename*=UTF-8''")[1])).toBe(name);
    expect(await sha256Hex(new Uint8Array(await dl.arrayBuffer()))).toBe(file.checksumSha256);
    const cached = await request(`${base}/${file.id}/download`, {
      headers: { ...users.viewer.auth, "if-none-match": `"${file.checksumSha256}"` },
    });
    expect(cached.status).toBe(304);
    const part = await request(`${base}/${file.id}/download`, {
      headers: { ...users.viewer.auth, range: "bytes=0-3" },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-3/${bytes.length}`);
    expect([...new Uint8Array(await part.arrayBuffer())]).toEqual([0x50, 0x4b, 0x03, 0x04]);
    const bad = await request(`${base}/${file.id}/download`, {
      headers: { ...users.viewer.auth, range: "bytes=999999-" },
    });
    expect(bad.status).toBe(416);
  });

  test("type checks: extension and signature must agree (415); no file part → 400", async () => {
    const { users, base, upload } = await world();
    expect((await json(await upload(users.member, "tool.exe", EXE_BYTES))).code).toBe(
      "UNSUPPORTED_FILE_TYPE",
    );
    expect((await json(await upload(users.member, "tool.xlsx", EXE_BYTES))).code).toBe(
      "UNSUPPORTED_FILE_TYPE",
    );
    expect((await json(await upload(users.member, "fake.png", "hello"))).code).toBe("UNSUPPORTED_FILE_TYPE");
    expect((await json(await upload(users.member, "bad.json", "{not json"))).code).toBe(
      "UNSUPPORTED_FILE_TYPE",
    );
    const zipNotXlsx = await xlsxBytes({ a: [[1]] }).then((b) => b);
    expect((await upload(users.member, "ok.png", PNG_BYTES)).status).toBe(201);
    expect((await json(await upload(users.member, "doc.docx", zipNotXlsx))).code).toBe(
      "UNSUPPORTED_FILE_TYPE",
    );
    const sjis = new Uint8Array([0x94, 0x84, 0x8f, 0xe3, 0x2c, 0x31, 0x0a]);
    expect((await upload(users.member, "sjis.csv", sjis)).status).toBe(201);
    expect((await upload(users.member, "data.json", '{"a":[1,2]}')).status).toBe(201);
    const form = new FormData();
    form.append("comment", "no file");
    const none = await request(base, { method: "POST", body: form, headers: users.member.auth });
    expect((await json(none)).code).toBe("MALFORMED_REQUEST");
    const jsonBody = await request(base, jsonInit("POST", { file: "x" }, users.member.auth));
    expect(jsonBody.status).toBe(415);
    const rows = await db
      .select()
      .from(projectFile)
      .where(eq(projectFile.projectId, (await world()).project.id));
    expect(rows).toHaveLength(0);
  });

  test("size limit: exactly the limit is accepted, one byte more → 413 and nothing stored", async () => {
    const { users, upload, project } = await world();
    const exact = new Uint8Array(MiB).fill(0x41);
    expect((await upload(users.member, "exact.txt", exact)).status).toBe(201);
    const over = new Uint8Array(MiB + 1).fill(0x41);
    const res = await upload(users.member, "over.txt", over);
    expect(res.status).toBe(413);
    const body = await json(res);
    expect(body.code).toBe("FILE_TOO_LARGE");
    expect(body.maxBytes).toBe(MiB);
    const rows = await db.select().from(projectFile).where(eq(projectFile.projectId, project.id));
    expect(rows).toHaveLength(1);
    const objects = [...new Bun.Glob(`**/projects/${project.id}/*`).scanSync({ cwd: root })];
    expect(objects).toHaveLength(1);
  });

  test("a traversal filename is stored under the project prefix, shown verbatim, downloaded as its basename", async () => {
    const { users, upload, project, base } = await world();
    const file = await json(await upload(users.member, "../../etc/passwd.csv", "a,b\n1,2\n"));
    expect(file.originalFilename).toBe("../../etc/passwd.csv");
    const [row] = await db.select().from(projectFile).where(eq(projectFile.id, file.id));
    expect(row.storageKey).toBe(`projects/${project.id}/${file.id}_passwd.csv`);
    const dl = await request(`${base}/${file.id}/download`, { headers: users.viewer.auth });
    expect(dl.headers.get("content-disposition")).toBe(
      `attachment; filename="passwd.csv"; filename*=UTF-8''passwd.csv`,
    );
  });

  test("ownership: members delete only their own files; moderators delete anyone's", async () => {
    const { users, base, upload } = await world();
    const mine = await json(await upload(users.member, "mine.csv", "a\n1\n"));
    expect((await upload(users.viewer, "v.csv", "a\n")).status).toBe(403);
    const other = await json(await upload(users.manager, "theirs.csv", "a\n2\n"));
    const denied = await request(`${base}/${other.id}`, { method: "DELETE", headers: users.member.auth });
    expect((await json(denied)).code).toBe("NOT_OWNER");
    expect(
      (await request(`${base}/${mine.id}`, { method: "DELETE", headers: users.member.auth })).status,
    ).toBe(204);
    expect(
      (await request(`${base}/${other.id}`, { method: "DELETE", headers: users.project_moderator.auth }))
        .status,
    ).toBe(204);
    expect((await request(`${base}/${other.id}`, { headers: users.viewer.auth })).status).toBe(404);
  });

  test("versions: chain, restore as a new latest version, compare sheets", async () => {
    const { users, base, upload } = await world();
    const v1bytes = await xlsxBytes({ A: [["x"], [1], [2]], B: [["y"]] });
    const v1 = await json(await upload(users.member, "book.xlsx", v1bytes));
    const v2bytes = await xlsxBytes({ A: [["x"], [1], [2], [3]], C: [["z"]] });
    const v2 = await json(await upload(users.member, "book.xlsx", v2bytes, `${base}/${v1.id}/version`));
    expect(v2).toMatchObject({
      version: 2,
      chainId: v1.id,
      parentFileId: v1.id,
      isLatest: true,
      versionCount: 2,
    });
    expect((await json(await request(`${base}/${v1.id}`, { headers: users.viewer.auth }))).isLatest).toBe(
      false,
    );
    const restored = await json(
      await request(`${base}/${v2.id}/restore`, jsonInit("POST", { versionId: v1.id }, users.member.auth)),
    );
    expect(restored).toMatchObject({ version: 3, restoredFromId: v1.id, comment: "Restored from v1" });
    expect(restored.checksumSha256).toBe(v1.checksumSha256);
    const versions = await json(await request(`${base}/${v1.id}/versions`, { headers: users.viewer.auth }));
    expect(versions.items.map((v: any) => v.version)).toEqual([1, 2, 3]);
    const list = await json(await request(base, { headers: users.viewer.auth }));
    expect(list.items.map((f: any) => f.id)).toEqual([restored.id]);
    const cmp = await json(
      await request(`${base}/${v1.id}/compare?base=${v1.id}&target=${v2.id}`, { headers: users.viewer.auth }),
    );
    expect(cmp.identical).toBe(false);
    expect(cmp.sizeDeltaBytes).toBe(v2bytes.length - v1bytes.length);
    expect(cmp.sheets).toEqual({ added: ["C"], removed: ["B"], common: ["A"] });
    expect(cmp.rowCounts.base.A).toBe(3);
    expect(cmp.rowCounts.target.A).toBe(4);
    const same = await json(
      await request(`${base}/${v1.id}/compare?base=${v1.id}&target=${restored.id}`, {
        headers: users.viewer.auth,
      }),
    );
    expect(same.identical).toBe(true);
    const other = await json(await upload(users.member, "other.csv", "a\n1\n"));
    const wrong = await request(
      `${base}/${v1.id}/restore`,
      jsonInit("POST", { versionId: other.id }, users.member.auth),
    );
    expect((await json(wrong)).code).toBe("VERSION_NOT_IN_CHAIN");
  });

  test("isolation: a file id of project Q under project P → 404 FILE_NOT_FOUND on every file route", async () => {
    const p = await world();
    const q = await world();
    const qFile = await json(await q.upload(q.users.member, "q.csv", "a\n1\n"));
    const m = p.users.manager.auth;
    const paths = ["", "/download", "/usage", "/versions", `/compare?base=${qFile.id}&target=${qFile.id}`];
    for (const suffix of paths) {
      const res = await request(`${p.base}/${qFile.id}${suffix}`, { headers: m });
      expect({ suffix, status: res.status }).toEqual({ suffix, status: 404 });
      expect((await json(res)).code).toBe("FILE_NOT_FOUND");
    }
    expect((await request(`${p.base}/${qFile.id}`, { method: "DELETE", headers: m })).status).toBe(404);
    expect((await p.upload(p.users.manager, "v.csv", "a\n", `${p.base}/${qFile.id}/version`)).status).toBe(
      404,
    );
  });

  test("project delete removes every stored object and leaves no queue row", async () => {
    const { users, upload, project } = await world();
    await upload(users.member, "one.csv", "a\n1\n");
    await upload(users.member, "two.csv", "a\n2\n");
    expect([...new Bun.Glob(`**/projects/${project.id}/*`).scanSync({ cwd: root })]).toHaveLength(2);
    expect(
      (await request(`/api/v1/project/${project.id}`, { method: "DELETE", headers: users.manager.auth }))
        .status,
    ).toBe(204);
    expect([...new Bun.Glob(`**/projects/${project.id}/*`).scanSync({ cwd: root })]).toHaveLength(0);
    const queued = await db.select().from(storageDeletionQueue);
    expect(queued.filter((q) => q.storageKey.includes(project.id))).toHaveLength(0);
  });

  test("an inactive project serves downloads but refuses uploads (409)", async () => {
    const { users, base, upload, project } = await world();
    const f = await json(await upload(users.member, "x.csv", "a\n1\n"));
    await request(
      `/api/v1/project/${project.id}`,
      jsonInit("PATCH", { isActive: false }, users.manager.auth),
    );
    expect((await request(`${base}/${f.id}/download`, { headers: users.viewer.auth })).status).toBe(200);
    expect((await json(await upload(users.member, "y.csv", "a\n"))).code).toBe("PROJECT_INACTIVE");
  });
});

describe.skipIf(!hasAzurite)("files on Azure Blob (Azurite)", () => {
  let azurite: Azurite;
  let ctx: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    azurite = await startAzurite();
    ctx = await testApp({
      STORAGE_BACKEND: "azure",
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      AZURE_STORAGE_CONTAINER_NAME: "uploads",
    });
  }, 60_000);
  afterAll(() => azurite.stop());

  test("upload, ranged download and project delete leave no blob behind", async () => {
    const { request, deps } = ctx;
    expect(deps.storage.backend).toBe("azure");
    const u = await signIn(request, deps.config.secretKey);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "Blob", code: `B-${u.id.slice(-10)}` }, u.auth),
      ),
    );
    const base = `/api/v1/project/${project.id}/file`;
    const bytes = await xlsxBytes({ S: [["a", 1]] });
    const file = await json(
      await request(base, { method: "POST", body: uploadForm("データ.xlsx", bytes), headers: u.auth }),
    );
    expect(file.checksumSha256).toBe(await sha256Hex(bytes));
    const part = await request(`${base}/${file.id}/download`, { headers: { ...u.auth, range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect([...new Uint8Array(await part.arrayBuffer())]).toEqual([...bytes.slice(2, 6)]);
    await request(base, { method: "POST", body: uploadForm("two.csv", "a\n1\n"), headers: u.auth });
    const prefix = `projects/${project.id}/`;
    const listed = async () => {
      const { BlobServiceClient } = await import("@azure/storage-blob");
      const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
        "uploads",
      );
      const names: string[] = [];
      for await (const b of container.listBlobsFlat({ prefix })) names.push(b.name);
      return names;
    };
    expect(await listed()).toHaveLength(2);
    expect(
      (await request(`/api/v1/project/${project.id}`, { method: "DELETE", headers: u.auth })).status,
    ).toBe(204);
    expect(await listed()).toHaveLength(0);
  });
});

describe("upload memory", () => {
  test("a 40 MiB upload over a 32 MiB limit → 413 without the process holding the bytes", async () => {
    const { request, deps } = await testApp({ MAX_FILE_SIZE_MB: "32" });
    const u = await signIn(request, deps.config.secretKey);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "Big", code: `BIG-${u.id.slice(-10)}` }, u.auth),
      ),
    );
    const boundary = "----bench-boundary";
    const head = new TextEncoder().encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n`,
    );
    const chunk = new TextEncoder().encode("2024,東京,売上,1234567\n".repeat(2048));
    let sent = 0;
    const total = 40 * 1024 * 1024;
    // Generated on the fly and chunked (no Content-Length), so the limit is enforced while streaming.
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent === 0) c.enqueue(head);
        if (sent >= total) {
          c.enqueue(new TextEncoder().encode(`\r\n--${boundary}--\r\n`));
          c.close();
          return;
        }
        sent += chunk.length;
        c.enqueue(chunk);
      },
    });
    Bun.gc(true);
    const before = process.memoryUsage().rss;
    const res = await request(`/api/v1/project/${project.id}/file`, {
      method: "POST",
      body,
      headers: { ...u.auth, "content-type": `multipart/form-data; boundary=${boundary}` },
    });
    expect(res.status).toBe(413);
    expect((await json(res)).code).toBe("FILE_TOO_LARGE");
    Bun.gc(true);
    const grown = (process.memoryUsage().rss - before) / 1024 / 1024;
    expect(grown).toBeLessThan(24);
    expect(sent).toBeLessThan(total);
    const list = await json(await request(`/api/v1/project/${project.id}/file`, { headers: u.auth }));
    expect(list.total).toBe(0);
  });
});

describe("file usage by analysis sessions", () => {
  test("a file used by a session → usage lists it; delete → 409 FILE_IN_USE unless force; parsed data survives", async () => {
    const { request, deps } = await testApp();
    const db = deps.database.db;
    const u = await signIn(request, deps.config.secretKey);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "Use", code: `USE-${u.id.slice(-10)}` }, u.auth),
      ),
    );
    const base = `/api/v1/project/${project.id}/file`;
    const file = await json(
      await request(base, {
        method: "POST",
        body: uploadForm("used.csv", "科目,値\n売上,1\n"),
        headers: u.auth,
      }),
    );
    const [validation] = await db
      .insert(analysisValidationMaster)
      .values({ id: crypto.randomUUID(), name: `検証 ${crypto.randomUUID()}` })
      .returning();
    const [issue] = await db
      .insert(analysisIssueMaster)
      .values({ id: crypto.randomUUID(), validationId: validation.id, name: "課題", agentPrompt: "prompt" })
      .returning();
    const [session] = await db
      .insert(analysisSession)
      .values({
        id: crypto.randomUUID(),
        projectId: project.id,
        issueId: issue.id,
        name: "分析1",
        creatorId: u.id,
      })
      .returning();
    const [af] = await db
      .insert(analysisFile)
      .values({
        id: crypto.randomUUID(),
        sessionId: session.id,
        projectFileId: file.id,
        sourceFilename: "used.csv",
        sheetName: "CSV",
        data: { format: "columnar-v1", rowCount: 1 },
        rowCount: 1,
      })
      .returning();
    const usage = await json(await request(`${base}/${file.id}/usage`, { headers: u.auth }));
    expect(usage.analysisSessionCount).toBe(1);
    expect(usage.usages[0]).toMatchObject({
      usageType: "analysis_session",
      targetId: session.id,
      sheetName: "CSV",
    });
    const proj = await json(await request(`/api/v1/project/${project.id}`, { headers: u.auth }));
    expect(proj.stats.sessionCount).toBe(1);
    const refused = await request(`${base}/${file.id}`, { method: "DELETE", headers: u.auth });
    expect(refused.status).toBe(409);
    const body = await json(refused);
    expect(body.code).toBe("FILE_IN_USE");
    expect(body.usage.analysisSessionCount).toBe(1);
    expect(
      (await request(`${base}/${file.id}?force=true`, { method: "DELETE", headers: u.auth })).status,
    ).toBe(204);
    const [after] = await db.select().from(analysisFile).where(eq(analysisFile.id, af.id));
    expect(after.projectFileId).toBeNull();
    expect((after.data as any).rowCount).toBe(1);
  });
});
