// Hourly medians: the resolution of the load-cycle tiers.
import { median } from "./stats/order.ts";

const HOUR = 3_600_000;

export function hourlyMedians(t: readonly number[], values: ArrayLike<number>): { t: number[]; y: number[] } {
  const out = { t: [] as number[], y: [] as number[] };
  let start = 0;
  for (let i = 1; i <= t.length; i++) {
    if (i < t.length && Math.floor((t[i] ?? 0) / HOUR) === Math.floor((t[start] ?? 0) / HOUR)) continue;
    let sum = 0;
    const bucket: number[] = [];
    for (let k = start; k < i; k++) {
      sum += t[k] ?? 0;
      bucket.push(values[k] ?? 0);
    }
    out.t.push(sum / (i - start));
    out.y.push(median(bucket));
    start = i;
  }
  return out;
}
