import { afterAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { analysisSession } from "@/db/schema";
import { metrics } from "@/lib/metrics";
import { lockAgainstTurn } from "@/modules/analysis-session/service";
import { seedIssue, sessionOnF1 } from "./helpers/analysis";
import { testApp } from "./helpers/context";
import { type FakeLlm, loadScript, type Script, startFakeLlm } from "./helpers/fake-llm";
import { json } from "./helpers/http";
import { jsonInit } from "./helpers/users";

/*
 * The agent end to end (analysis.md §8 scenarios 12–14, 24, 26–29): the product's provider code
 * runs through the real SDKs against the scripted fake LLM on loopback.
 */

const fake: FakeLlm = await startFakeLlm();
afterAll(() => fake.close());

type Provider = "anthropic" | "openai" | "azure_openai";
function providerVars(provider: Provider): Record<string, string> {
  switch (provider) {
    case "anthropic":
      return { LLM_PROVIDER: "anthropic", ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: fake.baseUrl };
    case "openai":
      return {
        LLM_PROVIDER: "openai",
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: `${fake.baseUrl}/v1`,
        OPENAI_MODEL: "gpt-test-model",
      };
    case "azure_openai":
      return {
        LLM_PROVIDER: "azure_openai",
        AZURE_OPENAI_ENDPOINT: fake.baseUrl,
        AZURE_OPENAI_API_KEY: "azure-test",
        AZURE_OPENAI_DEPLOYMENT_NAME: "gpt-test",
        AZURE_OPENAI_API_VERSION: "2024-10-21",
      };
  }
}

async function agentWorld(provider: Provider = "anthropic", vars: Record<string, string> = {}) {
  const { request, deps } = await testApp({ LLM_MAX_RETRIES: "3", ...providerVars(provider), ...vars });
  const issue = await seedIssue(deps.database.db);
  const w = await sessionOnF1(request, deps.config.secretKey, issue.id, {
    customSystemPrompt: "簡潔に",
    initialMessage: "ようこそ",
  });
  const chat = (message: string, headers: Record<string, string> = {}) =>
    request(`${w.sbase}/chat`, jsonInit("POST", { message }, { ...w.user.auth, ...headers }));
  const detail = async () => json(await request(w.sbase, { headers: w.user.auth }));
  return { ...w, request, deps, chat, detail };
}

const currentOf = (d: any) => d.snapshotList.find((s: any) => s.order === d.currentSnapshot);
const callsOf = (provider: string, model: string) =>
  metrics.llmApiCallsTotal
    .get()
    .then((m) =>
      m.values
        .filter((v) => v.labels.provider === provider && v.labels.model === model)
        .reduce((n, v) => n + v.value, 0),
    );

function expectScenario12(d: any, before: any) {
  expect(d.currentSnapshot).toBe(before.currentSnapshot + 1);
  const snap = currentOf(d);
  expect(snap.trigger).toBe("chat");
  expect(snap.step.map((s: any) => [s.name, s.type, s.status])).toEqual([
    ["年度別集計", "aggregate", "ok"],
    ["年度別グラフ", "summary", "ok"],
  ]);
  const chart = snap.step[1].resultChart;
  expect(chart.data[0].type).toBe("bar");
  expect(chart.data[0].y).toEqual([1500, 1800]);
  const previous = currentOf(before).chat;
  expect(snap.chat.map((c: any) => c.message).slice(0, previous.length)).toEqual(
    previous.map((c: any) => c.message),
  );
  const [user, assistant] = snap.chat.slice(previous.length);
  expect(user).toMatchObject({ role: "user", message: "年度ごとの売上合計を棒グラフで" });
  expect(assistant.role).toBe("assistant");
  expect(assistant.message).toBe(
    "年度別の売上合計を集計し、棒グラフを作成しました。売上は年度ごとに増加しています。",
  );
  expect(assistant.toolTrace.map((t: any) => [t.tool, t.ok])).toEqual([
    ["add_step", true],
    ["set_aggregation", true],
    ["add_step", true],
    ["set_summary", true],
  ]);
  expect(assistant.toolTrace[0].durationMs).toBeNumber();
}

describe("analysis agent", () => {
  for (const provider of ["anthropic", "openai", "azure_openai"] as const) {
    test(`scenario 12 through ${provider}: a scripted turn builds an aggregate and a bar chart`, async () => {
      const w = await agentWorld(provider);
      const model = w.deps.llm!.model;
      if (provider === "azure_openai") expect(model).toBe("gpt-test");
      const callsBefore = await callsOf(provider, model);
      const before = await w.detail();
      fake.load("bar-by-year");
      const res = await w.chat("年度ごとの売上合計を棒グラフで");
      expect(fake.errors).toEqual([]);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-turn-outcome")).toBe("completed");
      const body = await json(res);
      expectScenario12(body, before);
      expectScenario12(await w.detail(), before);
      expect(fake.pending()).toBe(0);
      const first = fake.requests[0];
      expect(JSON.stringify(first.body)).toContain("簡潔に");
      expect(JSON.stringify(first.body)).toContain("年度別の売上を把握する");
      if (provider === "azure_openai") {
        expect(first.path).toBe("/openai/deployments/gpt-test/chat/completions");
        expect(first.url).toContain("api-version=2024-10-21");
      }
      expect((await callsOf(provider, model)) - callsBefore).toBe(5);
      const scrape = await (await w.request("/metrics")).text();
      expect(scrape).toContain(`llm_api_calls_total{provider="${provider}",model="${model}"}`);
    });
  }

  test("scenario 13: a failing tool call is corrected from its error; the trace keeps both", async () => {
    const w = await agentWorld();
    fake.load("self-correct");
    const res = await w.chat("年度ごとの売上合計を出して");
    expect(fake.errors).toEqual([]);
    expect(res.status).toBe(200);
    const snap = currentOf(await json(res));
    expect(snap.step.map((s: any) => s.status)).toEqual(["ok"]);
    const trace = snap.chat.at(-1).toolTrace;
    expect(trace.map((t: any) => t.ok)).toEqual([true, false, true]);
    expect(trace[1].output).toContain("売り上げ");
    const toolResult = JSON.stringify(fake.requests[2].body);
    expect(toolResult).toContain("availableSubjects");
  });

  test("scenario 14: guards answer before anything runs; a dead provider writes nothing", async () => {
    const w = await agentWorld("anthropic", { LLM_MAX_RETRIES: "2" });
    const empty = await w.chat("   ");
    expect(empty.status).toBe(422);
    expect((await json(empty)).code).toBe("VALIDATION_FAILED");

    const before = await w.detail();
    fake.load({ name: "down", exchanges: [{ fault: { status: 500 } }] });
    const res = await w.chat("売上は?");
    expect(res.status).toBe(503);
    expect((await json(res)).code).toBe("LLM_UNAVAILABLE");
    expect(fake.requests.length).toBe(3);
    const after = await w.detail();
    expect(after.currentSnapshot).toBe(before.currentSnapshot);
    expect(after.snapshotCount).toBe(before.snapshotCount);
    expect(currentOf(after).chat.length).toBe(currentOf(before).chat.length);

    const noInput = await testApp(providerVars("anthropic"));
    const issue = await seedIssue(noInput.deps.database.db);
    const u = await sessionOnF1(noInput.request, noInput.deps.config.secretKey, issue.id);
    const fresh = await json(
      await noInput.request(
        `/api/v1/project/${u.project.id}/analysis/session`,
        jsonInit("POST", { issueId: issue.id }, u.user.auth),
      ),
    );
    const needsInput = await noInput.request(
      `/api/v1/project/${u.project.id}/analysis/session/${fresh.id}/chat`,
      jsonInit("POST", { message: "こんにちは" }, u.user.auth),
    );
    expect((await json(needsInput)).code).toBe("INPUT_FILE_REQUIRED");

    const none = await testApp({ ANTHROPIC_API_KEY: undefined });
    const issue2 = await seedIssue(none.deps.database.db);
    const n = await sessionOnF1(none.request, none.deps.config.secretKey, issue2.id);
    const unconfigured = await none.request(
      `${n.sbase}/chat`,
      jsonInit("POST", { message: "こんにちは" }, n.user.auth),
    );
    expect(unconfigured.status).toBe(503);
    expect((await json(unconfigured)).code).toBe("LLM_NOT_CONFIGURED");
  });

  for (const provider of ["anthropic", "openai", "azure_openai"] as const) {
    test(`scenario 26 through ${provider}: SSE streams deltas, tool and step events, then snapshot and done`, async () => {
      const w = await agentWorld(provider);
      fake.load("bar-by-year");
      const res = await w.chat("年度ごとの売上合計を棒グラフで", { Accept: "text/event-stream" });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("x-accel-buffering")).toBe("no");
      const events = parseSse(await res.text());
      expect(fake.errors).toEqual([]);
      const names = events.map((e) => e.event);
      expect(names.filter((n) => n === "tool.start")).toHaveLength(4);
      expect(names.filter((n) => n === "tool")).toHaveLength(4);
      expect(names.filter((n) => n === "step")).toHaveLength(4);
      expect(names.slice(-2)).toEqual(["snapshot", "done"]);
      expect(names.indexOf("delta")).toBeGreaterThan(names.lastIndexOf("tool"));
      expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
      const done = events.at(-1)!.data;
      expect(done.turn.outcome).toBe("completed");
      expect(done.turn.usage).toMatchObject({ llmCalls: 5, toolCalls: 4 });
      const text = events
        .filter((e) => e.event === "delta")
        .map((e) => e.data.text)
        .join("");
      expect(text).toBe(currentOf(done).chat.at(-1).message);
      const tool = events.find((e) => e.event === "tool")!.data;
      expect(tool).toMatchObject({ tool: "add_step", ok: true });
      expect(tool.callId).toBeString();
      expect(events.find((e) => e.event === "step")!.data).toMatchObject({
        change: "added",
        name: "年度別集計",
      });
    });
  }

  test("scenario 26: a client that disconnects after the first delta does not stop the turn", async () => {
    const w = await agentWorld();
    const before = await w.detail();
    const script = loadScript("bar-by-year");
    script.exchanges[0].reply = {
      text: "集計します。",
      chunks: 2,
      toolCalls: script.exchanges[0].reply!.toolCalls,
    };
    script.exchanges[4].chunkDelayMs = 50;
    fake.load(script);
    const res = await w.request(
      `${w.sbase}/chat`,
      jsonInit(
        "POST",
        { message: "年度ごとの売上合計を棒グラフで" },
        { ...w.user.auth, Accept: "text/event-stream" },
      ),
    );
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("event: delta");
    await reader.cancel();
    let after = await w.detail();
    for (let i = 0; i < 100 && after.currentSnapshot === before.currentSnapshot; i++) {
      await Bun.sleep(50);
      after = await w.detail();
    }
    expect(after.currentSnapshot).toBe(before.currentSnapshot + 1);
    expect(fake.errors).toEqual([]);
  });

  test("scenario 27: the tool budget ends the turn with one tool-less call and commits what was done", async () => {
    const w = await agentWorld("anthropic", { AGENT_MAX_TOOL_CALLS_PER_TURN: "3" });
    const script: Script = {
      name: "budget",
      exchanges: [
        {
          reply: {
            toolCalls: [
              { name: "add_step", input: { name: "A", type: "filter", input: "original" } },
              { name: "add_step", input: { name: "B", type: "filter", input: "original" } },
            ],
          },
        },
        {
          expect: { toolResultOk: true },
          reply: {
            toolCalls: [
              {
                name: "set_filter",
                // biome-ignore lint/suspicious/noTemplateCurlyInString: the fake LLM substitutes this placeholder
                input: { stepKey: "${result[0].stepKey}", config: { categoryFilter: { 部門: ["営業"] } } },
              },
              { name: "add_step", input: { name: "C", type: "filter", input: "original" } },
            ],
          },
        },
        {
          expect: { toolChoice: "none", toolResultContains: ["BUDGET_EXHAUSTED"] },
          reply: { text: "途中までの結果です。" },
        },
      ],
    };
    fake.load(script);
    const res = await w.chat("いろいろ試して");
    expect(fake.errors).toEqual([]);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-turn-outcome")).toBe("budget_exhausted");
    const snap = currentOf(await json(res));
    expect(snap.step.map((s: any) => [s.name, s.status])).toEqual([
      ["A", "ok"],
      ["B", "not_configured"],
    ]);
    expect(snap.chat.at(-1).toolTrace.map((t: any) => t.ok)).toEqual([true, true, true, false]);
  });

  test("scenario 28: the turn deadline aborts the upstream request, writes nothing and frees the lease", async () => {
    const w = await agentWorld("anthropic", { LLM_TURN_TIMEOUT_S: "1" });
    const before = await w.detail();
    fake.load({ name: "slow", exchanges: [{ delayMs: 3000, reply: { text: "遅い" } }] });
    const t0 = performance.now();
    const res = await w.chat("売上は?");
    const elapsed = performance.now() - t0;
    expect(res.status).toBe(504);
    expect((await json(res)).code).toBe("LLM_TIMEOUT");
    expect(elapsed).toBeGreaterThan(900);
    expect(elapsed).toBeLessThan(2500);
    for (let i = 0; i < 40 && !fake.requests[0]?.aborted; i++) await Bun.sleep(25);
    expect(fake.requests[0].aborted).toBe(true);
    expect((await w.detail()).snapshotCount).toBe(before.snapshotCount);
    fake.load({ name: "quick", exchanges: [{ reply: { text: "はい。" } }] });
    const next = await w.chat("もう一度");
    expect(next.status).toBe(200);
  });

  test("scenario 28: 429 with retry-after twice, then success; a 400 is attempted once", async () => {
    const w = await agentWorld();
    const model = w.deps.llm!.model;
    const before = await callsOf("anthropic", model);
    fake.load({
      name: "limited",
      exchanges: [
        { fault: { status: 429, headers: { "retry-after": "1" }, times: 2 }, reply: { text: "どうぞ。" } },
      ],
    });
    const t0 = performance.now();
    const res = await w.chat("こんにちは");
    expect(res.status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThan(1800);
    expect((await callsOf("anthropic", model)) - before).toBe(3);

    fake.load({ name: "bad", exchanges: [{ fault: { status: 400 } }] });
    const bad = await w.chat("こんにちは");
    expect(bad.status).toBe(503);
    expect(fake.requests).toHaveLength(1);
  });

  test("scenario 24: a turn that leaves a new invalid step is refused after the repair rounds", async () => {
    const w = await agentWorld("anthropic", { AGENT_MAX_REPAIR_ROUNDS: "2" });
    const post = async (body: unknown) =>
      json(await w.request(`${w.sbase}/step`, jsonInit("POST", body, w.user.auth)));
    const agg = await post({
      name: "集計",
      type: "aggregate",
      input: "original",
      config: {
        groupByAxis: ["年度"],
        aggregationConfig: [{ name: "売上合計", method: "sum", subject: "売上" }],
      },
    });
    await post({
      name: "売上のみ",
      type: "filter",
      input: agg.stepKey,
      config: { categoryFilter: { 科目: ["売上合計"] } },
    });
    const before = await w.detail();
    fake.load({
      name: "breaks",
      exchanges: [
        {
          reply: {
            toolCalls: [
              {
                name: "set_aggregation",
                input: {
                  stepKey: agg.stepKey,
                  config: {
                    groupByAxis: ["年度"],
                    aggregationConfig: [{ name: "売上総額", method: "sum", subject: "売上" }],
                  },
                },
              },
            ],
          },
        },
        { expect: { toolResultContains: ["brokenDependants"] }, reply: { text: "名前を変えました。" } },
        { expect: { lastUserText: "売上のみ" }, reply: { text: "問題ありません。" } },
        { expect: { lastUserText: "売上のみ" }, reply: { text: "そのままにします。" } },
      ],
    });
    const res = await w.chat("名前を売上総額に");
    expect(fake.errors).toEqual([]);
    expect(res.status).toBe(422);
    const problem = await json(res);
    expect(problem.code).toBe("STEP_CONFIG_INVALID");
    expect(problem.detail).toBe("the agent left invalid steps");
    expect(problem.errors[0].message).toContain("売上のみ");
    expect((await w.detail()).snapshotCount).toBe(before.snapshotCount);

    const current = currentOf(before);
    const aggRow = current.step.find((s: any) => s.stepKey === agg.stepKey);
    await w.request(
      `${w.sbase}/step/${aggRow.id}`,
      jsonInit(
        "PUT",
        {
          config: {
            groupByAxis: ["年度"],
            aggregationConfig: [{ name: "売上総額", method: "sum", subject: "売上" }],
          },
        },
        w.user.auth,
      ),
    );
    fake.load({
      name: "unrelated",
      exchanges: [
        {
          reply: {
            toolCalls: [{ name: "add_step", input: { name: "別件", type: "filter", input: "original" } }],
          },
        },
        { reply: { text: "追加しました。" } },
      ],
    });
    const ok = await w.chat("別のステップを追加");
    expect(fake.errors).toEqual([]);
    expect(ok.status).toBe(200);
    const statuses = currentOf(await json(ok)).step.map((s: any) => [s.name, s.status]);
    expect(statuses).toEqual([
      ["集計", "ok"],
      ["売上のみ", "invalid"],
      ["別件", "not_configured"],
    ]);
  });

  test("concurrent turns on one session: the second is refused with 409 while the first holds the lease", async () => {
    const w = await agentWorld();
    fake.load({ name: "slowish", exchanges: [{ delayMs: 600, reply: { text: "一つ目" } }] });
    const first = w.chat("一つ目");
    await Bun.sleep(150);
    const second = await w.chat("二つ目");
    expect(second.status).toBe(409);
    expect((await json(second)).code).toBe("CHAT_IN_PROGRESS");
    const stepWrite = await w.request(
      `${w.sbase}/step`,
      jsonInit("POST", { name: "手動", type: "filter", input: "original" }, w.user.auth),
    );
    expect(stepWrite.status).toBe(409);
    expect((await first).status).toBe(200);
  });

  test("other requests keep answering while a slow turn runs (in-process /health p99)", async () => {
    const w = await agentWorld();
    fake.load({
      name: "slow-stream",
      exchanges: [{ chunkDelayMs: 100, reply: { text: "ゆっくり答えます。", chunks: 10 } }],
    });
    const turn = w.chat("ゆっくり");
    const latencies: number[] = [];
    const until = performance.now() + 800;
    while (performance.now() < until) {
      const t0 = performance.now();
      const res = await w.request("/health");
      latencies.push(performance.now() - t0);
      expect(res.status).toBe(200);
      await Bun.sleep(2);
    }
    expect((await turn).status).toBe(200);
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)];
    expect(latencies.length).toBeGreaterThan(50);
    expect(p99).toBeLessThan(50);
  });
});

describe("analysis agent: snapshots, copies, quota and shutdown", () => {
  const reply = (text: string): Script => ({ name: text, exchanges: [{ reply: { text } }] });

  test("scenario 15: after restoring snapshot 1 the next turn creates snapshot 2", async () => {
    const w = await agentWorld();
    for (const n of [1, 2, 3]) {
      fake.load(reply(`ターン${n}`));
      expect((await w.chat(`質問${n}`)).status).toBe(200);
    }
    expect((await w.detail()).currentSnapshot).toBe(3);
    const restored = await json(
      await w.request(w.sbase, jsonInit("PUT", { currentSnapshot: 1 }, w.user.auth)),
    );
    expect(restored.snapshotList.map((s: any) => s.order)).toEqual([0, 1]);
    fake.load(reply("ターン4"));
    const res = await json(await w.chat("質問4"));
    expect(res.currentSnapshot).toBe(2);
    const snap = currentOf(res);
    expect(snap.trigger).toBe("chat");
    expect(snap.chat.filter((c: any) => c.role === "user").map((c: any) => c.message)).toEqual([
      "質問1",
      "質問4",
    ]);
    const history = fake.requests[0].body.messages.map((m: any) => m.role);
    expect(history).toEqual(["user", "assistant", "user"]);
  });

  test("scenario 16: a turn in a duplicate works without re-selecting the input", async () => {
    const w = await agentWorld();
    fake.load("bar-by-year");
    expect((await w.chat("年度ごとの売上合計を棒グラフで")).status).toBe(200);
    const copy = await json(await w.request(`${w.sbase}/duplicate`, jsonInit("POST", {}, w.user.auth)));
    fake.load(reply("複製でも動きます。"));
    const base = w.sbase.slice(0, w.sbase.lastIndexOf("/"));
    const res = await w.request(
      `${base}/${copy.id}/chat`,
      jsonInit("POST", { message: "確認" }, w.user.auth),
    );
    expect(res.status).toBe(200);
    const snap = currentOf(await json(res));
    expect(snap.step.map((s: any) => s.status)).toEqual(["ok", "ok"]);
  });

  test("older turns are folded into a conversation summary: an LLM summary computed once, or a digest", async () => {
    const w = await agentWorld("anthropic", { AGENT_HISTORY_TURNS: "1" });
    for (const n of [1, 2]) {
      fake.load(reply(`回答${n}`));
      expect((await w.chat(`質問${n}`)).status).toBe(200);
    }
    fake.load({
      name: "summarise",
      exchanges: [
        { expect: { lastUserText: "質問1" }, reply: { text: "要約: 質問1に回答1で答えた" } },
        { expect: { systemContains: "要約: 質問1に回答1で答えた" }, reply: { text: "回答3" } },
      ],
    });
    expect((await w.chat("質問3")).status).toBe(200);
    expect(fake.errors).toEqual([]);
    expect(fake.requests[0].body.tools ?? []).toEqual([]);
    expect(fake.requests[1].body.messages.map((m: any) => m.role)).toEqual(["user", "assistant", "user"]);

    const digest = await agentWorld("anthropic", {
      AGENT_HISTORY_TURNS: "1",
      AGENT_HISTORY_SUMMARY: "truncate",
    });
    for (const n of [1, 2]) {
      fake.load(reply(`回答${n}`));
      expect((await digest.chat(`質問${n}`)).status).toBe(200);
    }
    fake.load({
      name: "digest",
      exchanges: [
        { expect: { systemContains: ["これまでの会話の要約", "質問1", "回答1"] }, reply: { text: "回答3" } },
      ],
    });
    expect((await digest.chat("質問3")).status).toBe(200);
    expect(fake.errors).toEqual([]);
  });

  test("in-place writes re-check the lease under the session row lock inside their transaction", async () => {
    const w = await agentWorld();
    const db = w.deps.database.db;
    await expect(db.transaction((tx) => lockAgainstTurn(tx, w.sessionId))).resolves.toBeUndefined();
    await db
      .update(analysisSession)
      .set({ chatLeaseUntil: new Date(Date.now() + 60_000) })
      .where(eq(analysisSession.id, w.sessionId));
    await expect(db.transaction((tx) => lockAgainstTurn(tx, w.sessionId))).rejects.toMatchObject({
      code: "CHAT_IN_PROGRESS",
    });
  });

  test("the hourly turn quota answers 429 with Retry-After before calling the model", async () => {
    const w = await agentWorld("anthropic", { LLM_MAX_TURNS_PER_USER_PER_HOUR: "1" });
    fake.load(reply("一回目"));
    expect((await w.chat("一回目")).status).toBe(200);
    fake.load(reply("二回目"));
    const res = await w.chat("二回目");
    expect(res.status).toBe(429);
    expect((await json(res)).code).toBe("LLM_QUOTA_EXCEEDED");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(3500);
    expect(fake.requests).toHaveLength(0);
  });

  test("process shutdown aborts a running turn: 504, the upstream request cancelled, nothing written", async () => {
    const w = await agentWorld();
    w.deps.shutdown = new AbortController();
    const before = await w.detail();
    fake.load({ name: "slow", exchanges: [{ delayMs: 5000, reply: { text: "遅い" } }] });
    const turn = w.chat("長い質問");
    await Bun.sleep(300);
    w.deps.shutdown.abort();
    const res = await turn;
    expect(res.status).toBe(504);
    expect((await json(res)).code).toBe("LLM_TIMEOUT");
    expect((await w.detail()).snapshotCount).toBe(before.snapshotCount);
    for (let i = 0; i < 40 && !fake.requests[0]?.aborted; i++) await Bun.sleep(25);
    expect(fake.requests[0].aborted).toBe(true);
  });
});

function parseSse(text: string) {
  return text
    .split("\n\n")
    .filter((block) => block.trim() && !block.startsWith(":"))
    .map((block) => {
      const fields = Object.fromEntries(
        block.split("\n").map((line) => {
          const i = line.indexOf(": ");
          return [line.slice(0, i), line.slice(i + 2)];
        }),
      );
      return { id: fields.id, event: fields.event, data: JSON.parse(fields.data) };
    });
}
