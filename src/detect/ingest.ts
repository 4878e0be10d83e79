// Folding samples into the state: segments (split at restarts and at drops of more than half),
// block medians for the window, bucket medians for the load-cycle history.
import type { DetectorConfig } from "./config.ts";
import { packPoints, unpackPoints } from "./packed-points.ts";
import { lowQuartile, median } from "./stats/order.ts";
import { emptyPoints, type PointSeries } from "./points.ts";
import type { BucketAccumulator, SeriesState } from "./series-state.ts";
import { timingOf } from "./timing.ts";

/** Remedian base: a bucket's median is built from medians of five, then of five of those, and so on. */
const REMEDIAN_BASE = 5;
/**
 * Heap buckets keep the lower envelope: the second lowest of each group of five blocks (a trough
 * level that traffic bursts, sawtooth teeth and GC overshoot only ever lift), then the remedian of
 * those. At the default bucket of five blocks it is simply the second lowest block.
 */
const LOW_GROUP = 5;
/** Levels kept: 5^5 = 3125 blocks per bucket before the top level folds onto itself. */
const REMEDIAN_LEVELS = 5;

export function blockMs(config: DetectorConfig): number {
  return timingOf(config).blockMs;
}

export function bucketMs(config: DetectorConfig): number {
  return timingOf(config).bucketMs;
}

export function startSegment(state: SeriesState, t: number): void {
  state.segmentStart = t;
  state.open = emptyPoints();
  state.blocks = emptyPoints();
  state.buckets = packPoints(emptyPoints());
  state.bucketAcc = null;
  state.low = null;
}

// concat(), not push(), for every array the state holds between samples: push() grows an array to
// half again its length plus 16 slots, spare capacity held for as long as the series lives;
// concat() allocates the exact size (the arrays are short: copying them costs little).
function push(points: PointSeries, t: number, heap: number, goroutines: number | null): void {
  points.t = points.t.concat(t);
  points.heap = points.heap.concat(heap);
  points.goroutines = points.goroutines.concat(goroutines);
}

function dropOlderThan(points: PointSeries, cutoff: number): void {
  let k = 0;
  while (k < points.t.length && (points.t[k] ?? cutoff) < cutoff) k++;
  if (k === 0) return;
  // Copies, not splice(): an array grown by push() keeps up to half again its length as spare
  // capacity, held for as long as the series lives; a slice is allocated at its exact size.
  points.t = points.t.slice(k);
  points.heap = points.heap.slice(k);
  points.goroutines = points.goroutines.slice(k);
}

function summarize(
  points: PointSeries,
  from: number,
  to: number,
): { t: number; heap: number; goroutines: number | null } {
  const ts = points.t.slice(from, to);
  const counts = points.goroutines.slice(from, to).filter((g): g is number => g !== null);
  return {
    t: Math.round(ts.reduce((a, b) => a + b, 0) / ts.length),
    heap: Math.round(median(points.heap.slice(from, to))),
    goroutines: counts.length === 0 ? null : median(counts),
  };
}

/**
 * The level a new sample is compared with to spot a drop of more than half: the lowest block of the
 * window (its troughs), so the fall after a GC of a small heap is not mistaken for a restart.
 */
export function referenceLevel(state: SeriesState): number | null {
  const blocks = state.blocks.heap;
  if (blocks.length > 0) return Math.min(...blocks);
  if (state.open.heap.length > 0) return median(state.open.heap);
  return null;
}

/**
 * Adds a sample to the open block. Returns true when a block closed (the moment the detector
 * re-evaluates): the assessment then speaks for the data up to that block.
 */
export function addSample(
  state: SeriesState,
  sample: { t: number; heap: number; goroutines: number | null },
  config: DetectorConfig,
): boolean {
  const size = blockMs(config);
  const open = state.open;
  const openIndex = open.t.length > 0 ? Math.floor((open.t[0] ?? 0) / size) : null;
  let closed = false;
  if (openIndex !== null && Math.floor(sample.t / size) !== openIndex) {
    closeBlock(state, config);
    closed = true;
  }
  push(state.open, sample.t, sample.heap, sample.goroutines);
  return closed;
}

function closeBlock(state: SeriesState, config: DetectorConfig): void {
  const open = state.open;
  const block = summarize(open, 0, open.t.length);
  state.open = emptyPoints();
  const warmupEnd = (state.segmentStart ?? block.t) + config.warmupMs;
  if ((open.t[0] ?? block.t) < warmupEnd) return; // warm-up: growth after start is not a leak

  push(state.blocks, block.t, block.heap, block.goroutines);
  addToBucket(state, block, config);
  dropOlderThan(state.blocks, block.t - config.windowMs + blockMs(config) / 2);
}

/** The remedian with `value` added: new rows, each at its exact size (see push()). */
function remedianAdd(levels: readonly number[][], value: number): number[][] {
  const next = levels.slice();
  let carry = value;
  for (let level = 0; ; level++) {
    const row = (next[level] ?? []).concat(carry);
    if (row.length >= REMEDIAN_BASE && level < REMEDIAN_LEVELS - 1) {
      carry = median(row);
      next[level] = [];
      continue;
    }
    // The top level folds onto itself: its median stands for all of it.
    next[level] = row.length < REMEDIAN_BASE ? row : [median(row)];
    return next.slice(); // a level set past the end grew the array: copy it to its exact size
  }
}

/** Weighted median of every value still held, each weighing as many blocks as it stands for. */
function remedianValue(levels: readonly (readonly number[])[]): number | null {
  const items: { v: number; w: number }[] = [];
  levels.forEach((row, level) => {
    for (const v of row) items.push({ v, w: REMEDIAN_BASE ** level });
  });
  if (items.length === 0) return null;
  items.sort((a, b) => a.v - b.v);
  const total = items.reduce((s, x) => s + x.w, 0);
  let acc = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item === undefined) break;
    acc += item.w;
    if (acc > total / 2) return item.v;
    if (acc === total / 2) return (item.v + (items[i + 1]?.v ?? item.v)) / 2;
  }
  return items[items.length - 1]?.v ?? null;
}

function addToBucket(
  state: SeriesState,
  block: { t: number; heap: number; goroutines: number | null },
  config: DetectorConfig,
): void {
  const size = bucketMs(config);
  const index = Math.floor(block.t / size);
  if (state.bucketAcc !== null && state.bucketAcc.index !== index) closeBucket(state, config);
  state.bucketAcc ??= { index, tSum: 0, n: 0, heapGroup: [], heap: [], goroutines: [] };
  const acc: BucketAccumulator = state.bucketAcc;
  acc.tSum += block.t;
  acc.n += 1;
  acc.heapGroup = acc.heapGroup.concat(block.heap);
  if (acc.heapGroup.length === LOW_GROUP) {
    acc.heap = remedianAdd(acc.heap, lowQuartile(acc.heapGroup));
    acc.heapGroup = [];
  }
  if (block.goroutines !== null) acc.goroutines = remedianAdd(acc.goroutines, block.goroutines);
}

function closeBucket(state: SeriesState, config: DetectorConfig): void {
  const acc = state.bucketAcc;
  state.bucketAcc = null;
  if (acc === null || acc.n === 0) return;
  if (acc.heapGroup.length > 0 && (acc.heap.length === 0 || acc.heapGroup.length >= LOW_GROUP / 2)) {
    acc.heap = remedianAdd(acc.heap, lowQuartile(acc.heapGroup));
  }
  const heap = remedianValue(acc.heap);
  if (heap === null) return;
  const t = Math.round(acc.tSum / acc.n);
  const buckets = unpackPoints(state.buckets);
  push(buckets, t, Math.round(heap), remedianValue(acc.goroutines));
  dropOlderThan(buckets, t - 2 * config.cycleMs);
  state.buckets = packPoints(buckets);
}
