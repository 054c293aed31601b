import { describe, expect, test } from "bun:test";
import { seedIssue, sessionOnF1 } from "./helpers/analysis";
import { testApp } from "./helpers/context";
import { LLM_SMOKE, liveLlmVars } from "./helpers/env";
import { json } from "./helpers/http";
import { jsonInit } from "./helpers/users";

/*
 * Scenario 12 against the configured real provider, opt-in with LLM_SMOKE=1 (it costs tokens and
 * needs the network). Only the structure of the result is checked: a model's wording varies.
 */
describe.skipIf(!LLM_SMOKE)("live LLM smoke test", () => {
  test("a real model builds a yearly sales aggregate and a bar chart on F1", async () => {
    const { request, deps } = await testApp({ ...liveLlmVars(), LLM_TURN_TIMEOUT_S: "180" });
    expect(deps.llm).not.toBeNull();
    const issue = await seedIssue(deps.database.db);
    const w = await sessionOnF1(request, deps.config.secretKey, issue.id);
    const res = await request(
      `${w.sbase}/chat`,
      jsonInit("POST", { message: "年度ごとの売上合計を集計して棒グラフにしてください" }, w.user.auth),
    );
    expect(res.status).toBe(200);
    const detail = await json(res);
    const current = detail.snapshotList.find((s: any) => s.order === detail.currentSnapshot);
    expect(current.trigger).toBe("chat");
    expect(current.step.every((s: any) => s.status !== "invalid")).toBe(true);
    expect(current.step.some((s: any) => s.type === "summary" && s.resultChart)).toBe(true);
    expect(current.chat.at(-1).role).toBe("assistant");
  }, 240_000);
});
