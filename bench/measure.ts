/* Median and p95 of repeated runs after a warm-up, in milliseconds: the benches' one timing loop. */

export type Timing = { case: string; medianMs: number; p95Ms: number; minMs: number; maxMs: number };

function summarise(name: string, times: number[]): Timing {
  times.sort((a, b) => a - b);
  const runs = times.length;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    case: name,
    medianMs: r(times[Math.floor(runs / 2)]),
    p95Ms: r(times[Math.min(runs - 1, Math.ceil(runs * 0.95) - 1)]),
    minMs: r(times[0]),
    maxMs: r(times[runs - 1]),
  };
}

export function measure(name: string, fn: () => unknown, warm = 2, runs = 15): Timing {
  for (let i = 0; i < warm; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return summarise(name, times);
}

export async function measureAsync(
  name: string,
  fn: () => Promise<unknown>,
  warm = 2,
  runs = 15,
): Promise<Timing> {
  for (let i = 0; i < warm; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return summarise(name, times);
}
