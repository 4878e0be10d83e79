// One metric's values out of the shared point arrays (goroutine counts may be missing).
import type { PointSeries } from "./points.ts";

export type MetricKind = "heap" | "goroutines";

export interface MetricView {
  readonly t: readonly number[];
  readonly y: readonly number[];
}

export function metricView(points: PointSeries, kind: MetricKind): MetricView {
  if (kind === "heap") return { t: points.t, y: points.heap };
  const t: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < points.t.length; i++) {
    const g = points.goroutines[i];
    if (g !== null && g !== undefined) {
      t.push(points.t[i] ?? 0);
      y.push(g);
    }
  }
  return { t, y };
}

/** Index of the first point at or after `since`. */
export function firstIndexFrom(view: MetricView, since: number): number {
  let lo = 0;
  let hi = view.t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((view.t[mid] ?? 0) < since) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Largest fall from an earlier high to a later low within [from, to). */
export function largestFallBack(y: readonly number[], from: number, to: number): number {
  let high = -Infinity;
  let fall = 0;
  for (let i = from; i < to; i++) {
    const v = y[i] ?? 0;
    if (v > high) high = v;
    else fall = Math.max(fall, high - v);
  }
  return fall;
}
