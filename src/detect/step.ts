// Is it one step rather than steady growth? A step up (a bigger cache, a config change) is flat, rises
// once, and is flat again; a leak keeps rising.
import type { MetricView } from "./metric-view.ts";
import { median } from "./stats/order.ts";
import type { TrendFit } from "./stats/trend-fit.ts";

const HOUR = 3_600_000;
/** A single step explains a span when its absolute residuals are below this share of the line's. */
const STEP_FIT_SHARE = 0.9;

export /**
 * A single step (flat, a rise, flat) fits the suffix better than steady growth (by absolute
 * residuals): a one-off step up, not a leak. Returns the step's height, or null.
 */
function stepExplains(view: MetricView, from: number, fit: TrendFit): number | null {
  const to = view.t.length;
  const n = to - from;
  if (n < 6) return null;
  const t0 = view.t[to - 1] ?? 0;
  let linear = 0;
  for (let i = from; i < to; i++) {
    const expected = fit.level + (fit.slopePerHour * ((view.t[i] ?? 0) - t0)) / HOUR;
    linear += Math.abs((view.y[i] ?? 0) - expected);
  }
  let best = Infinity;
  let height = 0;
  for (let k = from + 2; k <= to - 2; k++) {
    const left = view.y.slice(from, k);
    const right = view.y.slice(k, to);
    const ml = median(left);
    const mr = median(right);
    let cost = 0;
    for (const v of left) cost += Math.abs(v - ml);
    for (const v of right) cost += Math.abs(v - mr);
    if (cost < best) {
      best = cost;
      height = mr - ml;
    }
  }
  return best < STEP_FIT_SHARE * linear && height > 0 ? height : null;
}
