import { ResultCache } from "@/engine";

/*
 * Parsed sheet columns for evaluation (the `data` of `driver_tree_data_frame` rows), one cache
 * per app, owned by the driver-tree controller. Entries are keyed by the frame row's id: a row's
 * data is written once, when the row is inserted (select, refresh), and never updated — a
 * refresh or a re-select after a new file version inserts new rows with new ids, and role changes
 * touch only `role`. So an entry can never be stale; it only ages out of the LRU. Which rows a
 * tree reads (and their roles) is still decided per request from the database snapshot.
 */

export type FrameData = {
  /** An axis or time column, aligned to the sheet's data columns. */
  values?: (string | null)[];
  /** 科目: every item's values, aligned likewise. */
  items?: Record<string, (number | null)[]>;
  subjects?: string[];
};

export type FrameCache = ResultCache<FrameData>;

/** About 64 MiB of parsed columns: a 50,000-cell sheet is ~1 MiB of JSON. */
export const FRAME_CACHE_BYTES = 64 * 1024 * 1024;

export const createFrameCache = (maxBytes = FRAME_CACHE_BYTES): FrameCache =>
  new ResultCache<FrameData>(maxBytes);

/** What a JSON text costs once parsed, roughly: two bytes per character (strings are UTF-16, numbers 8 bytes). */
export const parsedBytes = (json: string) => json.length * 2;
