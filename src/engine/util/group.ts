/*
 * Dense group ids over dictionary-encoded columns: the workhorse of aggregate, transform
 * combinations, duplicate detection and table filters. Columns are folded in one at a time
 * (id = previous id × radix + code) and re-densified after each fold, so keys never overflow
 * whatever the number of columns; ids follow first appearance in row order. Each fold rewrites
 * the one ids array in place (key computed and looked up per row), so grouping n rows allocates
 * n ids plus the lookup tables, not a key and an id array per column.
 */

export type Grouping = { ids: Int32Array; count: number; firstRow: Int32Array };

const DIRECT_TABLE_MAX = 1 << 24;

/**
 * Groups rows by the tuple of codes in `columns` (code -1 = null is a group value of its own).
 * `sizes[j]` is the dictionary size of column j. `rows`, when given, restricts and orders the
 * rows considered; ids are then indexed by position in `rows`.
 */
export function groupRows(
  columns: readonly ArrayLike<number>[],
  sizes: number[],
  n: number,
  rows?: Int32Array,
): Grouping {
  const len = rows ? rows.length : n;
  if (columns.length === 0) {
    return {
      ids: new Int32Array(len),
      count: len > 0 ? 1 : 0,
      firstRow: len > 0 ? Int32Array.of(rows ? rows[0] : 0) : new Int32Array(0),
    };
  }
  const ids = new Int32Array(len);
  let count = 1;
  let first = new Int32Array(0);
  for (let j = 0; j < columns.length; j++) {
    const col = columns[j];
    const radix = sizes[j] + 1;
    const keySpace = count * radix;
    const last = j === columns.length - 1;
    // Only the last fold's first rows are returned; earlier folds need no record of them.
    const firsts = last ? new Int32Array(Math.min(len, keySpace)) : null;
    let next = 0;
    if (keySpace <= DIRECT_TABLE_MAX) {
      const table = new Int32Array(keySpace).fill(-1);
      for (let i = 0; i < len; i++) {
        const k = (j === 0 ? 0 : ids[i] * radix) + col[rows ? rows[i] : i] + 1;
        let g = table[k];
        if (g < 0) {
          g = next++;
          table[k] = g;
          if (firsts) firsts[g] = rows ? rows[i] : i;
        }
        ids[i] = g;
      }
    } else {
      const map = new Map<number, number>();
      for (let i = 0; i < len; i++) {
        const k = (j === 0 ? 0 : ids[i] * radix) + col[rows ? rows[i] : i] + 1;
        let g = map.get(k);
        if (g === undefined) {
          g = next++;
          map.set(k, g);
          if (firsts) firsts[g] = rows ? rows[i] : i;
        }
        ids[i] = g;
      }
    }
    count = next;
    if (firsts) first = firsts.length === count ? firsts : firsts.slice(0, count);
  }
  return { ids, count, firstRow: first };
}
