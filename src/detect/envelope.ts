// What the series has shown before: its lowest sustained level (the floor a load cycle swings above)
// and the envelope of its history (how high it has been and how far it swings), from the segment's
// buckets and the window's blocks.
import { firstIndexFrom, largestFallBack, type MetricView } from "./metric-view.ts";
import { median, robustScale } from "./stats/order.ts";

/** Load cycles swing at most this far either side of their mean (the design assumption of the tiers). */
export const MAX_CYCLE_AMPLITUDE = 0.3;

/** Running median of `width` points: the block series at bucket resolution. */
function runningMedian(y: readonly number[], from: number, to: number, width: number): number[] {
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
  /** Highest level seen (bucket resolution). */
  readonly max: number;
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
  const firstBlock = blocks.t[0] ?? before;
  for (let i = firstIndexFrom(buckets, since); i < buckets.t.length; i++) {
    const t = buckets.t[i] ?? 0;
    if (t + bucketMs / 2 > Math.min(before, firstBlock)) break;
    values.push(buckets.y[i] ?? 0);
  }
  const blockTo = firstIndexFrom(blocks, before);
  const width = Math.max(1, Math.min(blocksPerBucket, blockTo));
  if (blockTo > 0) values.push(...runningMedian(blocks.y, 0, blockTo, width));
  if (values.length < 2) return null;
  const firstT = Math.max(since, Math.min(buckets.t[firstIndexFrom(buckets, since)] ?? firstBlock, firstBlock));
  return {
    spanMs: before - firstT,
    max: Math.max(...values),
    median: median(values),
    fallBack: largestFallBack(values, 0, values.length),
    scale: robustScale(values),
  };
}
