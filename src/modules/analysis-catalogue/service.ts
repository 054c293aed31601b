import { and, asc, count, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import {
  analysisDummyChartMaster,
  analysisDummyFormulaMaster,
  analysisGraphAxisMaster,
  analysisIssueMaster,
  analysisValidationMaster,
} from "@/db/schema";
import { problem } from "@/lib/errors";
import { page } from "@/lib/schema";
import type { CatalogueIssue, IssueDetail } from "./model";

export const issueNotFound = () => problem("ISSUE_NOT_FOUND");

/* Active issues of active themes, in catalogue order (api.md §2.6). */
export async function listCatalogue(db: DbOrTx, q: { skip?: number; limit?: number; validationId?: string }) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const where = and(
    eq(analysisIssueMaster.isActive, true),
    eq(analysisValidationMaster.isActive, true),
    q.validationId ? eq(analysisValidationMaster.id, q.validationId) : undefined,
  );
  const rows = await db
    .select({
      validationId: analysisValidationMaster.id,
      validationName: analysisValidationMaster.name,
      validationOrder: analysisValidationMaster.validationOrder,
      issueId: analysisIssueMaster.id,
      issueName: analysisIssueMaster.name,
      issueOrder: analysisIssueMaster.issueOrder,
      description: analysisIssueMaster.description,
    })
    .from(analysisIssueMaster)
    .innerJoin(analysisValidationMaster, eq(analysisValidationMaster.id, analysisIssueMaster.validationId))
    .where(where)
    .orderBy(
      asc(analysisValidationMaster.validationOrder),
      asc(analysisIssueMaster.issueOrder),
      asc(analysisIssueMaster.id),
    )
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db
    .select({ n: count() })
    .from(analysisIssueMaster)
    .innerJoin(analysisValidationMaster, eq(analysisValidationMaster.id, analysisIssueMaster.validationId))
    .where(where);
  return page<CatalogueIssue>(rows, n, skip, limit);
}

/** An issue with its pickers and previews; archived issues are not part of the catalogue. */
export async function getIssue(db: DbOrTx, issueId: string, options: { includeArchived?: boolean } = {}) {
  const [row] = await db
    .select({
      issue: analysisIssueMaster,
      validationName: analysisValidationMaster.name,
      validationActive: analysisValidationMaster.isActive,
    })
    .from(analysisIssueMaster)
    .innerJoin(analysisValidationMaster, eq(analysisValidationMaster.id, analysisIssueMaster.validationId))
    .where(eq(analysisIssueMaster.id, issueId));
  // An issue under an archived theme leaves the catalogue with it (api.md §2.12.1).
  const active = !!row && row.issue.isActive && row.validationActive;
  if (!row || (!options.includeArchived && !active)) throw issueNotFound();
  const [axes, formulas, charts] = await Promise.all([
    db
      .select()
      .from(analysisGraphAxisMaster)
      .where(eq(analysisGraphAxisMaster.issueId, issueId))
      .orderBy(asc(analysisGraphAxisMaster.axisOrder)),
    db
      .select()
      .from(analysisDummyFormulaMaster)
      .where(eq(analysisDummyFormulaMaster.issueId, issueId))
      .orderBy(asc(analysisDummyFormulaMaster.formulaOrder)),
    db
      .select()
      .from(analysisDummyChartMaster)
      .where(eq(analysisDummyChartMaster.issueId, issueId))
      .orderBy(asc(analysisDummyChartMaster.chartOrder)),
  ]);
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
