/*
 * Dense group ids over dictionary-encoded columns: the workhorse of aggregate, transform
 * combinations, duplicate detection and table filters. Columns are folded in one at a time
 * (id = previous id × radix + code) and re-densified after each fold, so keys never overflow
 * whatever the number of columns; ids follow first appearance in row order.
 */

export type Grouping = { ids: Int32Array; count: number; firstRow: Int32Array };

const DIRECT_TABLE_MAX = 1 << 24;

function densify(keys: Float64Array | Int32Array, n: number, keySpace: number, rows?: Int32Array): Grouping {
  const ids = new Int32Array(n);
  const first: number[] = [];
  let count = 0;
  if (keySpace <= DIRECT_TABLE_MAX) {
    const table = new Int32Array(keySpace).fill(-1);
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      let g = table[k];
      if (g < 0) {
        g = count++;
        table[k] = g;
        first.push(rows ? rows[i] : i);
      }
      ids[i] = g;
    }
  } else {
    const map = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      let g = map.get(k);
      if (g === undefined) {
        g = count++;
        map.set(k, g);
        first.push(rows ? rows[i] : i);
      }
      ids[i] = g;
    }
  }
  return { ids, count, firstRow: Int32Array.from(first) };
}

/**
 * Groups rows by the tuple of codes in `columns` (code -1 = null is a group value of its own).
 * `sizes[j]` is the dictionary size of column j. `rows`, when given, restricts and orders the
 * rows considered; ids are then indexed by position in `rows`.
 */
export function groupRows(columns: Int32Array[], sizes: number[], n: number, rows?: Int32Array): Grouping {
  const len = rows ? rows.length : n;
  if (columns.length === 0) {
    return {
      ids: new Int32Array(len),
      count: len > 0 ? 1 : 0,
      firstRow: len > 0 ? Int32Array.of(rows ? rows[0] : 0) : new Int32Array(0),
    };
  }
  let current: Grouping | null = null;
  for (let j = 0; j < columns.length; j++) {
    const col = columns[j];
    const radix = sizes[j] + 1;
    const prevCount = current ? current.count : 1;
    const keySpace = prevCount * radix;
    const keys = keySpace < 2 ** 31 ? new Int32Array(len) : new Float64Array(len);
    const prevIds = current?.ids;
    for (let i = 0; i < len; i++) {
      const r = rows ? rows[i] : i;
      keys[i] = (prevIds ? prevIds[i] * radix : 0) + col[r] + 1;
    }
    current = densify(keys, len, keySpace, rows);
  }
  return current!;
}
