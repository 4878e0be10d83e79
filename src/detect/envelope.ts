// What the series has shown before: its lowest sustained level (the floor a load cycle swings above)
// and the envelope of its history (how high it has been and how far it swings), from the segment's
// buckets and the window's blocks.
import { firstIndexFrom, largestFallBack, type MetricView } from "./metric-view.ts";
import { median, robustScale } from "./stats/order.ts";

/** Slope noise is read at this quantile of the history's deviations (z of it for a normal). */
const NOISE_QUANTILE = 0.9;
const NOISE_QUANTILE_Z = 1.645;

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
 * a running median of the window's blocks (one bucket wide), from `since` on (all of the data when
 * nothing is that recent). A load cycle's mean is at most floor / (1 − MAX_CYCLE_AMPLITUDE).
 */
export function floorLevel(
  blocks: MetricView,
  buckets: MetricView,
  blocksPerBucket: number,
  since: number,
): number {
  const low = (from: number): number => {
    let min = Infinity;
    for (let i = firstIndexFrom(buckets, from); i < buckets.t.length; i++)
      min = Math.min(min, buckets.y[i] ?? min);
    const start = firstIndexFrom(blocks, from);
    const width = Math.max(1, Math.min(blocksPerBucket, blocks.t.length - start));
    for (const v of runningMedian(blocks.y, start, blocks.t.length, width)) min = Math.min(min, v);
    return min;
  };
  const recent = low(since);
  if (Number.isFinite(recent)) return recent;
  const all = low(-Infinity);
  return Number.isFinite(all) ? all : 0;
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
  const firstT = Math.max(
    since,
    Math.min(buckets.t[firstIndexFrom(buckets, since)] ?? firstBlock, firstBlock),
  );
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
  if (slopes.length < minPairs) return null;
  // A high quantile of the deviations, in units of a normal standard deviation: bursty series have
  // heavy tails that a median-based scale would miss.
  const centre = median(slopes);
  const deviations = Float64Array.from(slopes, (s) => Math.abs(s - centre)).sort();
  const k = Math.min(deviations.length - 1, Math.floor(NOISE_QUANTILE * deviations.length));
  return (deviations[k] ?? 0) / NOISE_QUANTILE_Z;
}

/** Smallest range a cycle of amplitude 1 shows over `spanMs`: a window centred on its peak or trough. */
export function cycleRangeFactor(spanMs: number, cycleMs: number): number {
  return 1 - Math.cos(Math.min(Math.PI, (Math.PI * spanMs) / cycleMs));
}

/**
 * The largest cycle amplitude (same units as the values) the history allows: a cycle of amplitude A
 * spans at least A·(1 − cos(πL/cycle)) within every stretch of length L, so each stretch of the
 * history at least `minSpanMs` long bounds A by its range (plus twice the noise) over that factor.
 * Null when the history is shorter than `minSpanMs`.
 */
export function cycleAmplitudeBound(
  history: History,
  cycleMs: number,
  minSpanMs: number,
  stepMs: number,
): number | null {
  const { t, y } = history;
  const n = t.length;
  if (n < 2 || (t[n - 1] ?? 0) - (t[0] ?? 0) < minSpanMs) return null;
  const diffs: number[] = [];
  for (let i = 1; i < n; i++) diffs.push((y[i] ?? 0) - (y[i - 1] ?? 0));
  const noise = robustScale(diffs) / Math.SQRT2;
  let bound = Infinity;
  for (let i = 0; i < n; i++) {
    const ti = t[i] ?? 0;
    let low = Infinity;
    let high = -Infinity;
    let nextLength = minSpanMs;
    for (let j = i; j < n; j++) {
      const v = y[j] ?? 0;
      low = Math.min(low, v);
      high = Math.max(high, v);
      const length = (t[j] ?? 0) - ti;
      if (length >= nextLength) {
        bound = Math.min(bound, (high - low + 2 * noise) / cycleRangeFactor(length, cycleMs));
        nextLength = length + stepMs;
      }
    }
  }
  return Number.isFinite(bound) ? bound : null;
}

/**
 * When the floor may start: after warm-up, unless the first ramp time after it climbed more than
 * twice as fast as the two ramp times after that (a slow warm-up, whose early levels are not where the
 * process settled), in which case that first ramp time is left out too.
 */
export function settledSince(
  blocks: MetricView,
  buckets: MetricView,
  warmupEnd: number,
  rampMs: number,
): number {
  const points: { t: number[]; y: number[] } = { t: [], y: [] };
  const firstBlock = blocks.t[0] ?? Infinity;
  for (let i = 0; i < buckets.t.length && (buckets.t[i] ?? 0) < firstBlock; i++) {
    points.t.push(buckets.t[i] ?? 0);
    points.y.push(buckets.y[i] ?? 0);
  }
  points.t.push(...blocks.t);
  points.y.push(...blocks.y);
  const split = firstIndexFrom(points, warmupEnd + rampMs);
  const end = firstIndexFrom(points, warmupEnd + 3 * rampMs);
  if (split < 3 || end - split < 3 || (points.t[end - 1] ?? 0) - (points.t[split] ?? 0) < rampMs)
    return warmupEnd;
  const early = theilSen(points.t, points.y, 0, split);
  const late = theilSen(points.t, points.y, split, end);
  return early > 0 && early > 2 * Math.max(0, late) ? warmupEnd + rampMs : warmupEnd;
}

/** Plain Theil–Sen slope (per ms) of points [from, to). */
function theilSen(t: readonly number[], y: readonly number[], from: number, to: number): number {
  const slopes: number[] = [];
  for (let i = from; i < to; i++) {
    for (let j = i + 1; j < to; j++) {
      const dt = (t[j] ?? 0) - (t[i] ?? 0);
      if (dt > 0) slopes.push(((y[j] ?? 0) - (y[i] ?? 0)) / dt);
    }
  }
  return slopes.length === 0 ? 0 : median(slopes);
}
