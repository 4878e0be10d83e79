// What the series has shown before: its lowest sustained level (the floor a load cycle swings above)
// and the envelope of its history (how high it has been and how far it swings), from the segment's
// buckets and the window's blocks.
import { firstIndexFrom, largestFallBack, type MetricView } from "./metric-view.ts";
import { median, robustScale } from "./stats/order.ts";

/** Load cycles swing at most this far either side of their mean (the design assumption of the tiers). */
export const MAX_CYCLE_AMPLITUDE = 0.3;

/** Running median of `width` points: the block series at bucket resolution. */
export function runningMedian(y: readonly number[], from: number, to: number, width: number): number[] {
  const out: number[] = [];
  for (let i = from; i + width <= to; i++) out.push(median(y.slice(i, i + width)));
  if (out.length === 0 && to > from) out.push(median(y.slice(from, to)));
  return out;
}

/**
 * The segment's lowest sustained level over the last cycle: the minimum of the bucket medians and of
 * a running median of the window's blocks (one bucket wide). A load cycle's mean is at most
 * floor / (1 − MAX_CYCLE_AMPLITUDE).
 */
export function floorLevel(
  blocks: MetricView,
  buckets: MetricView,
  blocksPerBucket: number,
  since: number,
): number {
  let low = Infinity;
  for (let i = firstIndexFrom(buckets, since); i < buckets.t.length; i++) low = Math.min(low, buckets.y[i] ?? low);
  const width = Math.max(1, Math.min(blocksPerBucket, blocks.t.length));
  for (const v of runningMedian(blocks.y, 0, blocks.t.length, width)) low = Math.min(low, v);
  return Number.isFinite(low) ? low : 0;
}

export interface History {
  /** How long the history before the growth covers (after warm-up). */
  readonly spanMs: number;
  /** The history at bucket resolution. */
  readonly t: readonly number[];
  readonly y: readonly number[];
  /** Highest level seen (bucket resolution), and when. */
  readonly max: number;
  readonly maxAt: number;
  readonly median: number;
  /** Largest fall from an earlier high to a later low. */
  readonly fallBack: number;
  /** Robust scale of the history's values around their median. */
  readonly scale: number;
}

/**
 * The history before `before` (the start of the growth under test), back to `since` at most: buckets
 * that closed before it, then the window's blocks before it at bucket resolution.
 */
export function historyBefore(
  blocks: MetricView,
  buckets: MetricView,
  blocksPerBucket: number,
  bucketMs: number,
  before: number,
  since: number,
): History | null {
  const values: number[] = [];
  const times: number[] = [];
  const firstBlock = blocks.t[0] ?? before;
  for (let i = firstIndexFrom(buckets, since); i < buckets.t.length; i++) {
    const t = buckets.t[i] ?? 0;
    if (t + bucketMs / 2 > Math.min(before, firstBlock)) break;
    values.push(buckets.y[i] ?? 0);
    times.push(t);
  }
  // The window's blocks before the growth, as medians of one bucket's worth of blocks.
  const blockTo = firstIndexFrom(blocks, before);
  const width = Math.max(1, Math.min(blocksPerBucket, blockTo));
  for (let i = 0; i + width <= blockTo; i += width) {
    values.push(median(blocks.y.slice(i, i + width)));
    times.push(((blocks.t[i] ?? 0) + (blocks.t[i + width - 1] ?? 0)) / 2);
  }
  if (values.length < 2) return null;
  const firstT = Math.max(since, Math.min(buckets.t[firstIndexFrom(buckets, since)] ?? firstBlock, firstBlock));
  let maxIndex = 0;
  values.forEach((v, i) => {
    if (v > (values[maxIndex] ?? v)) maxIndex = i;
  });
  return {
    spanMs: before - firstT,
    t: times,
    y: values,
    max: values[maxIndex] ?? 0,
    maxAt: times[maxIndex] ?? before,
    median: median(values),
    fallBack: largestFallBack(values, 0, values.length),
    scale: robustScale(values),
  };
}

/**
 * How much the history's own level changes over `lagMs` vary (robust scale of the changes, per hour):
 * the slope noise of this series at that time scale — traffic, bursts and load cycles included. Null
 * when the history holds too few such changes to tell.
 */
export function historicSlopeScale(history: History, lagMs: number, minPairs: number): number | null {
  const slopes: number[] = [];
  const { t, y } = history;
  let j = 0;
  for (let i = 0; i < t.length; i++) {
    const ti = t[i] ?? 0;
    while (j < t.length && (t[j] ?? 0) < ti + lagMs * 0.9) j++;
    if (j >= t.length) break;
    const dt = (t[j] ?? 0) - ti;
    if (dt > lagMs * 1.5) continue;
    slopes.push(((y[j] ?? 0) - (y[i] ?? 0)) / (dt / 3_600_000));
  }
  return slopes.length >= minPairs ? robustScale(slopes) : null;
}
