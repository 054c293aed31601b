import type { Database } from "@/db/client";
import { sensitivity, UnknownPeriodError } from "@/engine";
import { problem } from "@/lib/errors";
import { evalInputOf, loadEvaluated } from "./evaluated";
import type { FrameCache } from "./frame-cache";
import type { SensitivityQuery, TreeSensitivityOut } from "./model";

/* `GET …/tree/{treeId}/sensitivity` (analysis.md §7.8): one input at a time, ±deltaPct. */

export async function treeSensitivity(
  db: Database,
  projectId: string,
  treeId: string,
  query: SensitivityQuery,
  frames?: FrameCache,
): Promise<TreeSensitivityOut> {
  const withPolicies = query.withPolicies ?? false;
  const evaluated = await loadEvaluated(db, projectId, treeId, { withPolicies, frames });
  const options = {
    deltaPct: query.deltaPct ?? 10,
    period: query.period ?? null,
    includeConstants: query.includeConstants ?? false,
    withPolicies,
  };
  try {
    const s = sensitivity(evalInputOf(evaluated), options);
    return {
      treeId,
      periods: s.periods,
      period: s.period,
      deltaPct: s.deltaPct,
      withPolicies: s.withPolicies,
      includeConstants: options.includeConstants,
      rootNodeId: s.rootId,
      items: s.items,
      skipped: s.skipped,
    };
  } catch (e) {
    if (!(e instanceof UnknownPeriodError)) throw e;
    throw problem("VALIDATION_FAILED", {
      detail: e.message,
      errors: [
        { path: "/query/period", message: `must be one of the tree's periods: ${e.periods.join(", ")}` },
      ],
    });
  }
}
