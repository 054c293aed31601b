import { describe, expect, test } from "bun:test";
import { asc, eq } from "drizzle-orm";
import { analysisChat, analysisSession, analysisSnapshot, analysisStep } from "@/db/schema";
import { f1Bytes, seedIssue, sessionOnF1 } from "./helpers/analysis";
import { testApp } from "./helpers/context";
import { jsonInit } from "./helpers/users";

/*
 * The session aggregate's single writer (src/modules/analysis-session/repository.ts): every copy
 * of a snapshot goes through one routine, so what a copy keeps is the same for every caller.
 */
describe("analysis session repository", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const issue = await seedIssue(db);
  const json = async (res: Response) => (await res.json()) as any;

  const OLD = new Date("2020-01-01T00:00:00Z");

  /* Current snapshot with a summary, a step triggered by the opening chat, and old timestamps. */
  async function seededCurrent() {
    const w = await sessionOnF1(request, deps.config.secretKey, issue.id);
    const step = await json(
      await request(
        `${w.sbase}/step`,
        jsonInit("POST", { name: "集計", type: "summary", input: "original" }, w.user.auth),
      ),
    );
    const [session] = await db.select().from(analysisSession).where(eq(analysisSession.id, w.sessionId));
    const current = session.currentSnapshotId!;
    const chats = await db
      .select()
      .from(analysisChat)
      .where(eq(analysisChat.snapshotId, current))
      .orderBy(asc(analysisChat.chatOrder));
    const trigger = chats.at(-1)!;
    await db
      .update(analysisSnapshot)
      .set({ conversationSummary: "<!--folded:2-->\n要約" })
      .where(eq(analysisSnapshot.id, current));
    await db
      .update(analysisStep)
      .set({ triggeredByChatId: trigger.id, createdAt: OLD, updatedAt: OLD })
      .where(eq(analysisStep.id, step.id));
    await db
      .update(analysisChat)
      .set({ createdAt: OLD, updatedAt: OLD })
      .where(eq(analysisChat.snapshotId, current));
    return { ...w, current, trigger, step };
  }

  async function rowsOf(snapshotId: string) {
    const [[snap], chats, steps] = await Promise.all([
      db.select().from(analysisSnapshot).where(eq(analysisSnapshot.id, snapshotId)),
      db
        .select()
        .from(analysisChat)
        .where(eq(analysisChat.snapshotId, snapshotId))
        .orderBy(asc(analysisChat.chatOrder)),
      db.select().from(analysisStep).where(eq(analysisStep.snapshotId, snapshotId)),
    ]);
    return { snap, chats, steps };
  }

  /* What every copy keeps: summary, remapped trigger, new rows with the copy's own timestamps. */
  function expectFaithfulCopy(
    source: Awaited<ReturnType<typeof seededCurrent>>,
    copy: Awaited<ReturnType<typeof rowsOf>>,
  ) {
    expect(copy.snap.conversationSummary).toBe("<!--folded:2-->\n要約");
    const copiedTrigger = copy.chats.find((c) => c.chatOrder === source.trigger.chatOrder)!;
    expect(copiedTrigger.id).not.toBe(source.trigger.id);
    const step = copy.steps.find((s) => s.stepKey === source.step.stepKey)!;
    expect(step.id).not.toBe(source.step.id);
    expect(step.triggeredByChatId).toBe(copiedTrigger.id);
    for (const row of [...copy.chats, step]) {
      expect(row.createdAt.getTime()).toBeGreaterThan(OLD.getTime());
      expect(row.updatedAt.getTime()).toBeGreaterThan(OLD.getTime());
    }
  }

  test("snapshot save: keeps the conversation summary, remaps triggeredByChatId, copies are new rows", async () => {
    const w = await seededCurrent();
    const saved = await json(
      await request(`${w.sbase}/snapshot`, jsonInit("POST", { name: "保存" }, w.user.auth)),
    );
    expect(saved.parentSnapshotId).toBe(w.current);
    expectFaithfulCopy(w, await rowsOf(saved.id));
  });

  test("duplicate copies snapshots the same way as a save", async () => {
    const w = await seededCurrent();
    const base = w.sbase.slice(0, w.sbase.lastIndexOf("/"));
    for (const includeSnapshots of [true, false]) {
      const copy = await json(
        await request(`${w.sbase}/duplicate`, jsonInit("POST", { includeSnapshots }, w.user.auth)),
      );
      const [session] = await db.select().from(analysisSession).where(eq(analysisSession.id, copy.id));
      expectFaithfulCopy(w, await rowsOf(session.currentSnapshotId!));
      expect((await request(`${base}/${copy.id}`, { headers: w.user.auth })).status).toBe(200);
    }
  });

  test("10 simultaneous snapshot saves on one session: all 201 with distinct consecutive orders", async () => {
    const { user, sbase } = await sessionOnF1(request, deps.config.secretKey, issue.id);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request(`${sbase}/snapshot`, jsonInit("POST", { name: `s${i}` }, user.auth)),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses).toEqual(Array(10).fill(201));
    const orders = (await Promise.all(responses.map(json))).map((s) => s.order).sort((a, b) => a - b);
    expect(orders).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const detail = await json(await request(sbase, { headers: user.auth }));
    expect(detail).toMatchObject({ currentSnapshot: 10, snapshotCount: 11 });
  });

  test("concurrent restores, saves, deletions and step appends on one session: never a 5xx", async () => {
    const { user, sbase } = await sessionOnF1(request, deps.config.secretKey, issue.id);
    const first = await json(await request(`${sbase}/snapshot`, jsonInit("POST", {}, user.auth)));
    await request(`${sbase}/snapshot`, jsonInit("POST", {}, user.auth));
    const calls = Array.from({ length: 16 }, (_, i) => {
      switch (i % 4) {
        case 0:
          return request(sbase, jsonInit("PUT", { currentSnapshot: 1 }, user.auth));
        case 1:
          return request(`${sbase}/snapshot`, jsonInit("POST", {}, user.auth));
        case 2:
          return request(`${sbase}/snapshot/${first.id}`, { method: "DELETE", headers: user.auth });
        default:
          return request(
            `${sbase}/step`,
            jsonInit("POST", { name: `s${i}`, type: "summary", input: "original" }, user.auth),
          );
      }
    });
    const responses = await Promise.all(calls);
    const outcomes = await Promise.all(
      responses.map(async (r, i) => ({
        kind: ["restore", "save", "delete", "step"][i % 4],
        status: r.status,
        code: r.status >= 300 ? (await json(r)).code : null,
      })),
    );
    // A restore or deletion that lost the race: 404 / 409 (session moved meanwhile), or 422 for a
    // deletion of the snapshot a concurrent restore just made current.
    const lost = (o: { status: number; code: string | null }) =>
      [200, 201, 204, 404, 409].includes(o.status) || o.code === "SNAPSHOT_NOT_DELETABLE";
    expect(outcomes.filter((o) => !lost(o))).toEqual([]);
    const detail = await json(await request(sbase, { headers: user.auth }));
    const orders = detail.snapshotList.map((s: any) => s.order);
    expect(new Set(orders).size).toBe(orders.length);
  });

  test("file list pages in SQL: total, skip and limit; parsed rows only with includeData", async () => {
    const { user, project, sbase } = await sessionOnF1(request, deps.config.secretKey, issue.id);
    const form = new FormData();
    form.append("file", new File([await f1Bytes()], "F2.xlsx"));
    const pf = await json(
      await request(`/api/v1/project/${project.id}/file`, { method: "POST", body: form, headers: user.auth }),
    );
    expect(
      (await request(`${sbase}/file`, jsonInit("POST", { projectFileId: pf.id }, user.auth))).status,
    ).toBe(201);
    const all = await json(await request(`${sbase}/file`, { headers: user.auth }));
    expect(all.total).toBe(2);
    expect(all.items.map((f: any) => f.fileName)).toEqual(["F1.xlsx", "F2.xlsx"]);
    expect(all.items.every((f: any) => f.data === undefined)).toBe(true);
    const second = await json(await request(`${sbase}/file?skip=1&limit=1`, { headers: user.auth }));
    expect(second).toMatchObject({ total: 2, skip: 1, limit: 1 });
    expect(second.items.map((f: any) => f.fileName)).toEqual(["F2.xlsx"]);
    const withData = await json(
      await request(`${sbase}/file?limit=1&includeData=true&rowLimit=2`, { headers: user.auth }),
    );
    expect(withData.items).toHaveLength(1);
    expect(withData.items[0].data).toHaveLength(2);
  });

  test("snapshot and message lists page in SQL and list steps without results", async () => {
    const { user, sbase } = await sessionOnF1(request, deps.config.secretKey, issue.id, {
      initialMessage: "売上を集計して",
    });
    await request(
      `${sbase}/step`,
      jsonInit("POST", { name: "集計", type: "summary", input: "original" }, user.auth),
    );
    await request(`${sbase}/snapshot`, jsonInit("POST", { name: "a" }, user.auth));
    await request(`${sbase}/snapshot`, jsonInit("POST", { name: "b" }, user.auth));
    const all = await json(await request(`${sbase}/snapshot`, { headers: user.auth }));
    expect(all.total).toBe(all.items.length);
    expect(all.items.map((s: any) => s.order)).toEqual([...all.items.keys()]);
    const last = all.items.at(-1);
    expect(last.step).toHaveLength(1);
    // The listing shape: no result fields even for the current snapshot's steps.
    expect(Object.keys(last.step[0]).sort()).toEqual(
      ["config", "configured", "error", "id", "input", "name", "order", "stepKey", "type"].sort(),
    );
    const second = await json(await request(`${sbase}/snapshot?skip=1&limit=1`, { headers: user.auth }));
    expect(second).toMatchObject({ total: all.total, skip: 1, limit: 1 });
    expect(second.items).toEqual([all.items[1]]);
    const past = await json(await request(`${sbase}/snapshot?skip=${all.total}`, { headers: user.auth }));
    expect(past).toMatchObject({ items: [], total: all.total });

    const chats = await json(await request(`${sbase}/messages`, { headers: user.auth }));
    expect(chats.items).toEqual(last.chat);
    expect(chats.total).toBe(last.chat.length);
    expect(chats.total).toBeGreaterThan(1);
    const chat2 = await json(await request(`${sbase}/messages?skip=1&limit=1`, { headers: user.auth }));
    expect(chat2).toMatchObject({ total: chats.total, skip: 1, limit: 1 });
    expect(chat2.items).toEqual([chats.items[1]]);
  });
});
