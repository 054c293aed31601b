import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { analysisIssueMaster } from "@/db/schema";
import { invalidateCatalogue } from "@/modules/analysis-catalogue/cache";
import { seedIssue } from "./helpers/analysis";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

describe("catalogue cache (api.md §4.3)", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const admin = { authorization: `Bearer ${deps.config.devMockToken}` };

  test("list and detail are served from the cache until a master write drops it", async () => {
    const user = await signIn(request, deps.config.secretKey);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "C", code: `CC-${user.id.slice(-10)}` }, user.auth),
      ),
    );
    const issue = await seedIssue(db);
    const list = async () =>
      (
        await json(
          await request(
            `/api/v1/project/${project.id}/analysis/template?validationId=${issue.validationId}`,
            {
              headers: user.auth,
            },
          ),
        )
      ).items.map((i: any) => i.issueName);
    const detail = async () =>
      json(
        await request(`/api/v1/project/${project.id}/analysis/template/${issue.id}`, { headers: user.auth }),
      );

    expect(await list()).toEqual([issue.name]);
    expect((await detail()).description).toBeNull();

    // Writes that bypass the product's writers are not seen until the cache is dropped…
    await db
      .update(analysisIssueMaster)
      .set({ description: "直接" })
      .where(eq(analysisIssueMaster.id, issue.id));
    expect((await detail()).description).toBeNull();
    await invalidateCatalogue(deps.cache);
    expect((await detail()).description).toBe("直接");

    // …while an admin write is visible at once.
    const renamed = await request(
      `/api/v1/admin/issue/${issue.id}`,
      jsonInit("PATCH", { name: "改名後の課題" }, admin),
    );
    expect(renamed.status).toBe(200);
    expect(await list()).toEqual(["改名後の課題"]);
    expect((await detail()).name).toBe("改名後の課題");
    expect(
      (await request(`/api/v1/admin/issue/${issue.id}`, { method: "DELETE", headers: admin })).status,
    ).toBe(204);
    expect(await list()).toEqual([]);
    expect((await detail()).code).toBe("ISSUE_NOT_FOUND");
  });
});
