// Coarse medians: the resolution of the load-cycle tiers (an hour of a 24 h cycle).
import { median } from "./stats/order.ts";

/** Medians of the values in consecutive bins of `widthMs` (aligned to the epoch), at the bins' mean time. */
export function binnedMedians(
  t: readonly number[],
  values: ArrayLike<number>,
  widthMs: number,
): { t: number[]; y: number[] } {
  const out = { t: [] as number[], y: [] as number[] };
  let start = 0;
  for (let i = 1; i <= t.length; i++) {
    if (i < t.length && Math.floor((t[i] ?? 0) / widthMs) === Math.floor((t[start] ?? 0) / widthMs)) continue;
    let sum = 0;
    const bin: number[] = [];
    for (let k = start; k < i; k++) {
      sum += t[k] ?? 0;
      bin.push(values[k] ?? 0);
    }
    out.t.push(sum / (i - start));
    out.y.push(median(bin));
    start = i;
  }
  return out;
}
