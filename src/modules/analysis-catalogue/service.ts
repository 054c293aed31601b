import type { DbOrTx } from "@/db/client";
import { problem } from "@/lib/errors";
import { page } from "@/lib/schema";
import type { CatalogueIssue, IssueDetail } from "./model";
import { findIssueWithTheme, issueChildren, listActiveIssues } from "./queries";

export const issueNotFound = () => problem("ISSUE_NOT_FOUND");

/* Active issues of active themes, in catalogue order (api.md §2.6). */
export async function listCatalogue(db: DbOrTx, q: { skip?: number; limit?: number; validationId?: string }) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await listActiveIssues(db, q.validationId, skip, limit);
  return page<CatalogueIssue>(rows, total, skip, limit);
}

/** An issue with its pickers and previews; archived issues are not part of the catalogue. */
export async function getIssue(db: DbOrTx, issueId: string, options: { includeArchived?: boolean } = {}) {
  const row = await findIssueWithTheme(db, issueId);
  // An issue under an archived theme leaves the catalogue with it (api.md §2.12.1).
  const active = !!row && row.issue.isActive && row.validationActive;
  if (!row || (!options.includeArchived && !active)) throw issueNotFound();
  const { axes, formulas, charts } = await issueChildren(db, issueId);
  const i = row.issue;
  const detail: IssueDetail = {
    id: i.id,
    validationId: i.validationId,
    validationName: row.validationName,
    name: i.name,
    description: i.description,
    agentPrompt: i.agentPrompt,
    initialMessage: i.initialMsg,
    dummyHint: i.dummyHint,
    dummyInput: (i.dummyInput as IssueDetail["dummyInput"]) ?? null,
    initialAxis: axes.map((a) => ({
      id: a.id,
      issueId: a.issueId,
      name: a.name,
      option: a.option as "subject" | "column",
      multiple: a.multiple,
      axisOrder: a.axisOrder,
    })),
    dummyFormula: formulas.map((f) => ({
      id: f.id,
      issueId: f.issueId,
      name: f.name,
      value: f.value,
      formulaOrder: f.formulaOrder,
    })),
    dummyChart: charts.map((c) => ({
      id: c.id,
      issueId: c.issueId,
      chart: c.chart as IssueDetail["dummyChart"][number]["chart"],
      chartOrder: c.chartOrder,
    })),
  };
  return { detail, isActive: active };
}
