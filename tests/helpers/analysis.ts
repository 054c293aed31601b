import type { Database } from "@/db/client";
import { analysisIssueMaster, analysisValidationMaster } from "@/db/schema";
import { xlsxBytes } from "./files";
import { json } from "./http";
import { jsonInit, signIn } from "./users";

type RequestFn = (path: string, init?: RequestInit) => Promise<Response>;

export const RECIPE =
  "## 目的\n年度別の売上を把握する\n## 標準フロー\n1. aggregate\n## 確認事項\nなし\n## 出力\n棒グラフ";

/* A theme and one active issue of its own, so tests never depend on the shipped catalogue. */
export async function seedIssue(db: Database) {
  const tag = crypto.randomUUID().slice(0, 8);
  const [theme] = await db
    .insert(analysisValidationMaster)
    .values({ id: crypto.randomUUID(), name: `テスト施策 ${tag}`, validationOrder: 900 })
    .returning();
  const [issue] = await db
    .insert(analysisIssueMaster)
    .values({
      id: crypto.randomUUID(),
      validationId: theme.id,
      name: `年度別売上 ${tag}`,
      agentPrompt: RECIPE,
      issueOrder: 1,
    })
    .returning();
  return issue;
}

/** F1 of analysis.md §8 in the hierarchical layout. */
export const f1Bytes = () =>
  xlsxBytes({
    Sheet1: [
      ["年度", 2023, 2023, 2024, 2024],
      ["部門", "営業", "開発", "営業", "開発"],
      [],
      ["売上", 1000, 500, 1200, 600],
      ["コスト", 800, 400, 900, 450],
    ],
  });

/**
 * A new user with a project, F1 uploaded, a session on `issueId` and F1 (年度, 部門) selected as its
 * input: the state every agent scenario starts from.
 */
export async function sessionOnF1(
  request: RequestFn,
  secret: string,
  issueId: string,
  session: Record<string, unknown> = {},
) {
  const user = await signIn(request, secret);
  const project = await json(
    await request(
      "/api/v1/project",
      jsonInit("POST", { name: "分析", code: `AG-${user.id.slice(-10)}` }, user.auth),
    ),
  );
  const form = new FormData();
  form.append("file", new File([await f1Bytes()], "F1.xlsx"));
  const pf = await json(
    await request(`/api/v1/project/${project.id}/file`, { method: "POST", body: form, headers: user.auth }),
  );
  const base = `/api/v1/project/${project.id}/analysis/session`;
  const created = await json(await request(base, jsonInit("POST", { issueId, ...session }, user.auth)));
  const sbase = `${base}/${created.id}`;
  const af = await json(
    await request(`${sbase}/file`, jsonInit("POST", { projectFileId: pf.id }, user.auth)),
  );
  await request(
    `${sbase}/file/${af.id}`,
    jsonInit("PATCH", { sheetName: "Sheet1", axisConfig: { a: "年度", b: "部門" } }, user.auth),
  );
  const selected = await request(sbase, jsonInit("PUT", { inputFileId: af.id }, user.auth));
  if (selected.status !== 200) throw new Error(`input selection failed: ${await selected.text()}`);
  return { user, project, sbase, sessionId: created.id as string };
}
