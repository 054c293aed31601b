import { createResultCache, type Frame, ResultCache } from "@/engine";

/*
 * The in-process analysis caches (analysis.md §3.9), one set per app: built with the app's other
 * dependencies and cleared when it shuts down, so two apps in one process never share an entry or
 * a byte budget. Every key is a content hash or a (row, version) pair, so no entry goes stale.
 */

/** A decoded analysis input and the content hash the pipeline keys its results by. */
export type Input = { frame: Frame; hash: string };

export type AnalysisCaches = {
  /** Step results by Merkle key: an edit near the end of a long pipeline reuses the prefix. */
  results: ReturnType<typeof createResultCache>;
  /*
   * Decoded inputs by (analysis file, version). A 1M-row input costs ~100 ms to load and decode
   * (bench P2c) and every read of the session needs it; frames are immutable, so requests share
   * them, and the only writer of `data` (re-parse) also moves `updated_at`.
   */
  inputs: ResultCache<Input>;
  /** Rendered chart SVGs by graphId and format. */
  svgs: ResultCache<string>;
};

const MiB = 1024 * 1024;
export const ANALYSIS_CACHE_BYTES = { results: 256 * MiB, inputs: 128 * MiB, svgs: 32 * MiB } as const;

export function createAnalysisCaches(
  bytes: { results: number; inputs: number; svgs: number } = ANALYSIS_CACHE_BYTES,
): AnalysisCaches {
  return {
    results: createResultCache(bytes.results),
    inputs: new ResultCache<Input>(bytes.inputs),
    svgs: new ResultCache<string>(bytes.svgs),
  };
}

/** Drops every entry (shutdown): the frames they hold are the largest objects the app keeps. */
export function clearAnalysisCaches(caches: AnalysisCaches): void {
  caches.results.clear();
  caches.inputs.clear();
  caches.svgs.clear();
}
