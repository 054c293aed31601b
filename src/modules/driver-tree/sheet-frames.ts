import type { DbOrTx } from "@/db/client";
import { problem } from "@/lib/errors";
import { type FrameCache, type FrameData, parsedBytes } from "./frame-cache";
import * as sq from "./sheet-queries";

/*
 * Column data of selected sheets as evaluation and binding need it. Which frame rows are read,
 * and their roles, always come from the caller's transaction; only the rows' (immutable) data
 * may come from the app's cache.
 */

/** The data of these frame rows: cached ones from the cache, the rest read, parsed and cached. */
export async function frameData(
  db: DbOrTx,
  frameIds: readonly string[],
  cache: FrameCache | undefined,
): Promise<Map<string, FrameData>> {
  const out = new Map<string, FrameData>();
  const missing: string[] = [];
  for (const id of frameIds) {
    const hit = cache?.get(id);
    if (hit) out.set(id, hit);
    else missing.push(id);
  }
  for (const row of await sq.frameDataText(db, missing)) {
    const parsed = JSON.parse(row.data) as FrameData;
    cache?.set(row.id, parsed, parsedBytes(row.data));
    out.set(row.id, parsed);
  }
  return out;
}

/**
 * The time and axis columns of these sheets and their 科目. With a cache, all of 科目 is read once
 * (other items then hit); without one, 科目 is read for the items asked only.
 */
export async function evalFrames(
  db: DbOrTx,
  sheetIds: string[],
  items: string[],
  cache: FrameCache | undefined,
): Promise<sq.EvalFrame[]> {
  if (!cache) return sq.evalFrames(db, sheetIds, items);
  const refs = await sq.evalFrameRefs(db, sheetIds);
  const data = await frameData(
    db,
    refs.map((r) => r.id),
    cache,
  );
  return refs.map(({ id, ...r }) => ({ ...r, data: data.get(id) ?? {} }));
}

/** The selected sheet of this project, its columns (no data) and its 科目 values in sheet order. */
export async function selectedSheetSubjects(
  db: DbOrTx,
  projectId: string,
  sheetId: string,
  cache?: FrameCache,
) {
  const ref = await sq.findSheet(db, projectId, sheetId);
  if (!ref) throw problem("SHEET_NOT_FOUND", { extensions: { sheetId } });
  if (!ref.sheet.isSelected) throw problem("SHEET_NOT_SELECTED", { extensions: { sheetId } });
  const columns = await sq.columnsOf(db, [sheetId]);
  const subject = columns.find((c) => c.isSubject);
  const data = subject ? (await frameData(db, [subject.id], cache)).get(subject.id) : undefined;
  return { ref, columns, subjects: data?.subjects ?? Object.keys(data?.items ?? {}) };
}
