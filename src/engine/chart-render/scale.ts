/*
 * Linear scales with "nice" ticks (1, 2, 2.5, 5 × 10^k steps) and tick label formatting. Pure
 * arithmetic so the same data always yields the same ticks and therefore the same SVG bytes.
 */

export type Ticks = { min: number; max: number; step: number; values: number[]; decimals: number };

const STEPS = [1, 2, 2.5, 5, 10];

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const s of STEPS) if (s * power >= raw - raw * 1e-9) return s * power;
  return 10 * power;
}

/** Ticks covering [lo, hi] with about `count` intervals; a degenerate range is widened first. */
export function niceTicks(lo: number, hi: number, count: number): Ticks {
  let a = Number.isFinite(lo) ? lo : 0;
  let b = Number.isFinite(hi) ? hi : 1;
  if (a > b) [a, b] = [b, a];
  if (a === b) {
    const pad = a === 0 ? 1 : Math.abs(a) * 0.1;
    a -= a === 0 ? 0 : pad;
    b += pad;
  }
  const step = niceStep(b - a, count);
  const decimals = tickDecimals(step);
  const first = Math.floor(a / step + 1e-9);
  const last = Math.ceil(b / step - 1e-9);
  const values: number[] = [];
  for (let i = first; i <= last; i++) values.push(Number((i * step).toFixed(decimals)));
  return { min: values[0], max: values[values.length - 1], step, values, decimals };
}

function tickDecimals(step: number): number {
  for (let d = 0; d <= 12; d++) if (Math.abs(Number(step.toFixed(d)) - step) < step * 1e-9) return d;
  return 12;
}

function group(int: string): string {
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Tick label: thousands separators and as many decimals as the step needs. */
export function formatNumber(v: number, decimals: number): string {
  if (!Number.isFinite(v)) return "";
  if (v !== 0 && (Math.abs(v) >= 1e15 || Math.abs(v) < 1e-9)) return v.toExponential(2);
  const fixed = Math.abs(v).toFixed(decimals);
  const [int, frac] = fixed.split(".");
  const sign = v < 0 && Number(fixed) !== 0 ? "-" : "";
  return sign + group(int) + (frac ? `.${frac}` : "");
}

/** Maps a domain value to a pixel position between `from` (domain min) and `to` (domain max). */
export function linear(t: Ticks, from: number, to: number): (v: number) => number {
  const span = t.max - t.min || 1;
  return (v) => from + ((v - t.min) / span) * (to - from);
}
