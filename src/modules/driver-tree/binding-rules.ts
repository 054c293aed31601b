/*
 * When a selected sheet can feed bindings (analysis.md §7.5), shared by the binding route, the
 * import with `sheetId` and the column-role change, so that a stored binding always reads a sheet
 * with a time column, 科目 as its value column, and axis columns behind every axisFilter key.
 */

type Column = { columnId: string; columnName: string; isSubject: boolean; role: string };

/** Why this sheet cannot feed any binding, or null when it can. */
export function unbindableReason(columns: readonly Column[]): string | null {
  if (!columns.some((c) => c.role === "time" && !c.isSubject)) {
    return "the sheet has no time column; give one column the role time first";
  }
  const subject = columns.find((c) => c.isSubject);
  if (subject && subject.role !== "value") {
    return `the sheet's ${subject.columnName} column has the role ${subject.role}; give it the role value first`;
  }
  return null;
}

type Bound = { nodeId: string; axisFilter: Record<string, string[]> | null };

/** Why this binding cannot read the sheet with these column roles, or null. */
export function bindingBreak(columns: readonly Column[], b: Bound): string | null {
  const sheet = unbindableReason(columns);
  if (sheet) return sheet;
  const lost = Object.keys(b.axisFilter ?? {}).flatMap((id) => {
    const c = columns.find((x) => x.columnId === id);
    return c && c.role !== "axis" ? [c.columnName] : [];
  });
  return lost.length > 0
    ? `its axisFilter names ${lost.join(", ")}, which would no longer be an axis column`
    : null;
}

/** The bindings a role change breaks (those already broken before it are not its doing). */
export function bindingsBrokenBy<B extends Bound>(
  before: readonly Column[],
  after: readonly Column[],
  bound: readonly B[],
): (B & { reason: string })[] {
  return bound.flatMap((b) => {
    const reason = bindingBreak(after, b);
    return reason && !bindingBreak(before, b) ? [{ ...b, reason }] : [];
  });
}
