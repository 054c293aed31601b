/*
 * "Did you mean" suggestions (analysis.md §0): up to 3 nearest names by edit distance, compared
 * on NFKC forms so that full-width/half-width variants count as equal.
 */

function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  const m = a.length;
  const n = b.length;
  if (m === 0) return n;
  if (n === 0) return m;
  let prev = new Array<number>(n + 1);
  let cur = new Array<number>(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= n; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[n];
}

export function suggest(name: string, candidates: Iterable<string>, max = 3): string[] {
  const target = name.normalize("NFKC").toLowerCase();
  const scored: { c: string; d: number; i: number }[] = [];
  let i = 0;
  for (const c of candidates) {
    const form = c.normalize("NFKC").toLowerCase();
    const d = levenshtein(target, form);
    const contains = form.length > 0 && (form.includes(target) || target.includes(form));
    const longest = Math.max(form.length, target.length);
    const threshold = Math.max(1, Math.floor(longest / 2));
    if ((d <= threshold && d < longest) || contains) scored.push({ c, d: contains ? Math.min(d, 1) : d, i });
    i++;
  }
  scored.sort((x, y) => x.d - y.d || x.i - y.i);
  const out: string[] = [];
  for (const s of scored) {
    if (!out.includes(s.c)) out.push(s.c);
    if (out.length >= max) break;
  }
  return out;
}
