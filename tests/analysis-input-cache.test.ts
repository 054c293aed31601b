import { describe, expect, test } from "bun:test";
import { seedIssue, sessionOnF1 } from "./helpers/analysis";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit } from "./helpers/users";

describe("decoded inputs are shared between requests and never outlive a re-parse", async () => {
  const { request, deps } = await testApp();
  const issue = await seedIssue(deps.database.db);

  test("repeated reads hit the cache; re-parsing the input serves the new data", async () => {
    const w = await sessionOnF1(request, deps.config.secretKey, issue.id);
    const addStep = async () =>
      json(
        await request(
          `${w.sbase}/step`,
          jsonInit("POST", { name: "全件", type: "filter", input: "original", config: {} }, w.user.auth),
        ),
      );
    const first = await addStep();
    expect(Object.keys(first.resultData[0])).toEqual(["年度", "部門", "科目", "値"]);

    const before = deps.analysisCaches.inputs.hits;
    await request(w.sbase, { headers: w.user.auth });
    await request(w.sbase, { headers: w.user.auth });
    expect(deps.analysisCaches.inputs.hits).toBeGreaterThanOrEqual(before + 2);

    const detail = await json(await request(w.sbase, { headers: w.user.auth }));
    const fileId = detail.fileList[0].id;
    const reparsed = await request(
      `${w.sbase}/file/${fileId}`,
      jsonInit("PATCH", { sheetName: "Sheet1", axisConfig: { a: "年度" } }, w.user.auth),
    );
    expect(reparsed.status).toBe(200);
    const again = await addStep();
    expect(Object.keys(again.resultData[0])).toEqual(["年度", "科目", "値"]);
  });
});
