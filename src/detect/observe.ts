// The detector's one entry point: fold a sample into a container's state and say what it shows.
// Deterministic: the same samples and config give the same assessments, with no clock and no I/O.
import { assessMetric } from "./assess.ts";
import { summarizeSegment } from "./carry.ts";
import { sensitivityPresets, type DetectorConfig } from "./config.ts";
import { deseasonalize, evaluateCycleTier, type CycleTierResult, type Seasonal } from "./cycle-tier.ts";
import { InvalidSampleError } from "./errors.ts";
import { addSample, blockMs, bucketMs, referenceLevel, startSegment } from "./ingest.ts";
import { metricView, type MetricKind } from "./metric-view.ts";
import { lastPointTime, unpackPoints } from "./packed-points.ts";
import type { PointSeries } from "./points.ts";
import type { CarriedEvidence, SeriesState } from "./series-state.ts";
import { evaluateSustainedTier, type SustainedTierResult } from "./sustained-tier.ts";
import type { TierContext } from "./tier-context.ts";
import { timingOf } from "./timing.ts";
import type { Assessment, MetricAssessment, Sample } from "./types.ts";

/** A drop below this share of the recent level, confirmed by the next sample, starts a new segment. */
const DROP_SHARE = 0.5;
/** OOM kills in a row, each after growth, that call an OOM loop. */
const OOM_LOOP_RUNS = 2;
/** A run not proven by its trend counts as growth when its last sample is this many times its first. */
const RUN_GROWTH = 1.2;

type TierResult = CycleTierResult | SustainedTierResult;

/** The memo's slots: the cycle and the sustained tier, each for the heap and for goroutines. */
const SLOTS = 4;
const KEY_LENGTH = 3;

function slotOf(tier: "cycle" | "sustained", kind: MetricKind): number {
  return (tier === "cycle" ? 0 : 2) + (kind === "heap" ? 0 : 1);
}

/**
 * Per slot, the last result and the buckets it was computed from, as three numbers: the segment's
 * start, the bucket count and the last bucket's time (buckets only change by a bucket closing, which
 * moves the last time). Numbers in one double array, not a Map of string keys: it is held per series.
 */
interface TierMemo {
  readonly keys: number[];
  readonly results: (TierResult | undefined)[];
}

/**
 * The cycle tier changes only when a bucket closes; this memo (keyed by the state object, invisible
 * in results) spares refitting it on every block.
 */
const cycleMemo = new WeakMap<SeriesState, TierMemo>();

function memoized<T extends TierResult>(state: SeriesState, slot: number, compute: () => T): T {
  let memo = cycleMemo.get(state);
  if (memo === undefined) {
    memo = {
      keys: new Array<number>(SLOTS * KEY_LENGTH).fill(Number.NaN),
      results: new Array<TierResult | undefined>(SLOTS).fill(undefined),
    };
    cycleMemo.set(state, memo);
  }
  const segment = state.segmentStart ?? 0;
  const count = state.buckets.length;
  const lastT = lastPointTime(state.buckets) ?? 0;
  const at = slot * KEY_LENGTH;
  const { keys, results } = memo;
  const hit = results[slot];
  if (hit !== undefined && keys[at] === segment && keys[at + 1] === count && keys[at + 2] === lastT)
    return hit as T;
  const computed = compute();
  // Held until the next bucket closes: without the spare capacity push() left in its reasons.
  const result: T = { ...computed, reasons: computed.reasons.slice() };
  keys[at] = segment;
  keys[at + 1] = count;
  keys[at + 2] = lastT;
  results[slot] = result;
  return result;
}

function sustainedFor(
  state: SeriesState,
  buckets: PointSeries,
  kind: MetricKind,
  seasonal: Seasonal | null,
  ctx: TierContext,
): SustainedTierResult {
  return memoized(state, slotOf("sustained", kind), () =>
    evaluateSustainedTier(
      {
        buckets: deseasonalize(metricView(buckets, kind), seasonal),
        blocks: deseasonalize(metricView(state.blocks, kind), seasonal),
        segmentStart: state.segmentStart ?? 0,
      },
      ctx,
    ),
  );
}

function validate(sample: Sample): void {
  if (!Number.isFinite(sample.t))
    throw new InvalidSampleError(`sample time ${sample.t} is not a finite number`);
  if (!Number.isFinite(sample.heapInuseBytes) || sample.heapInuseBytes < 0) {
    throw new InvalidSampleError(
      `heap in-use ${sample.heapInuseBytes} at ${sample.t} is not a non-negative number`,
    );
  }
  if (sample.goroutines !== undefined && (!Number.isFinite(sample.goroutines) || sample.goroutines < 0)) {
    throw new InvalidSampleError(
      `goroutine count ${sample.goroutines} at ${sample.t} is not a non-negative number`,
    );
  }
}

function context(config: DetectorConfig, kind: MetricKind): TierContext {
  return {
    config,
    preset: sensitivityPresets[config.sensitivity],
    kind,
    minAbsPerHour: kind === "heap" ? config.minGrowthBytesPerHour : config.minGoroutineGrowthPerHour,
    blockMs: blockMs(config),
    timing: timingOf(config),
  };
}

function endSegment(
  state: SeriesState,
  at: number,
  cause: CarriedEvidence["cause"],
  config: DetectorConfig,
): void {
  if (state.segmentStart === null) return;
  const buckets = unpackPoints(state.buckets);
  const heap = summarizeSegment(
    metricView(buckets, "heap"),
    metricView(state.blocks, "heap"),
    state.heap,
    at,
    cause,
    context(config, "heap"),
  );
  const goroutines = summarizeSegment(
    metricView(buckets, "goroutines"),
    metricView(state.blocks, "goroutines"),
    state.goroutines,
    at,
    cause === "oom" ? "restart" : cause,
    context(config, "goroutines"),
  );
  state.carriedHeap = heap;
  state.carriedGoroutines = goroutines;
  // A run whose trend does not prove growth (too short, or too noisy) still counts when it ended well
  // above where it started; a loop with such runs needs one more OOM kill to be called.
  const first = state.segmentFirstHeap;
  const last = state.lastHeap;
  const roseAnyway = first !== null && last !== null && last >= RUN_GROWTH * first;
  if (cause === "oom" && (heap.grew || roseAnyway)) {
    state.oomGrowthStreak += 1;
    if (!heap.grew) state.oomShortRuns += 1;
  } else {
    state.oomGrowthStreak = 0;
    state.oomShortRuns = 0;
  }
}

/** OOM kills in a row, each after growth, that make an OOM loop (one more if any run's trend did not prove it). */
export function oomLoopCalled(state: SeriesState): boolean {
  return state.oomGrowthStreak >= OOM_LOOP_RUNS + (state.oomShortRuns > 0 ? 1 : 0);
}

function cycleFor(
  state: SeriesState,
  buckets: PointSeries,
  kind: MetricKind,
  config: DetectorConfig,
  ctx: TierContext,
): CycleTierResult {
  return memoized(state, slotOf("cycle", kind), () =>
    evaluateCycleTier(metricView(buckets, kind), bucketMs(config), ctx),
  );
}

function evaluate(state: SeriesState, now: number, config: DetectorConfig): Assessment {
  const segmentStart = state.segmentStart ?? now;
  const buckets = unpackPoints(state.buckets);
  const assessOne = (kind: MetricKind): MetricAssessment => {
    const ctx = context(config, kind);
    // With a full cycle in view, the fitted cycle is taken out before the trend tests.
    const cycle = cycleFor(state, buckets, kind, config, ctx);
    const view = deseasonalize(metricView(state.blocks, kind), cycle.seasonal);
    const hasData =
      kind === "heap" ||
      view.t.length > 0 ||
      state.open.goroutines.some((g) => g !== null) ||
      buckets.goroutines.some((g) => g !== null);
    const memory = kind === "heap" ? state.heap : state.goroutines;
    const { assessment, memory: next } = assessMetric(
      {
        view,
        buckets: deseasonalize(metricView(buckets, kind), cycle.seasonal),
        cycle: () => cycle,
        sustained: () => sustainedFor(state, buckets, kind, cycle.seasonal, ctx),
        memory,
        carried: kind === "heap" ? state.carriedHeap : state.carriedGoroutines,
        oomGrowthStreak: kind === "heap" ? state.oomGrowthStreak : 0,
        oomLoop: kind === "heap" && oomLoopCalled(state),
        now,
        warmupEndsAt: segmentStart + config.warmupMs,
        ceiling: kind === "heap" ? (config.heapCeilingBytes ?? null) : null,
        hasData,
      },
      ctx,
    );
    if (kind === "heap") state.heap = next;
    else state.goroutines = next;
    return assessment;
  };
  const assessment = { t: now, heap: assessOne("heap"), goroutines: assessOne("goroutines") };
  state.last = assessment;
  return assessment;
}

/**
 * Folds one sample into `state` (updated in place) and returns the current assessment. Samples at or
 * before the last one seen are ignored. Verdicts are re-evaluated each time a block of three sample
 * intervals closes, and at restarts.
 */
export function observe(state: SeriesState, sample: Sample, config: DetectorConfig): Assessment {
  validate(sample);
  if (state.lastT !== null && sample.t <= state.lastT)
    return state.last ?? evaluate(state, state.lastT, config);
  state.lastT = sample.t;
  const point = { t: sample.t, heap: sample.heapInuseBytes, goroutines: sample.goroutines ?? null };

  if (sample.restart === true || state.segmentStart === null) {
    endSegment(state, sample.t, sample.oomKilled === true ? "oom" : "restart", config);
    startSegment(state, sample.t);
    state.segmentFirstHeap = point.heap;
    state.lastHeap = point.heap;
    addSample(state, point, config);
    return evaluate(state, sample.t, config);
  }

  const reference = referenceLevel(state);
  if (reference !== null && point.heap < DROP_SHARE * reference) {
    if (state.low === null) {
      // Hold it: one low sample is a glitch, two in a row are a drop.
      state.low = point;
      return state.last ?? evaluate(state, sample.t, config);
    }
    const low = state.low;
    endSegment(state, low.t, "drop", config);
    startSegment(state, low.t);
    state.segmentFirstHeap = low.heap;
    state.lastHeap = point.heap;
    addSample(state, low, config);
    addSample(state, point, config);
    return evaluate(state, sample.t, config);
  }
  state.low = null;
  state.lastHeap = point.heap;
  const closed = addSample(state, point, config);
  return closed || state.last === null ? evaluate(state, sample.t, config) : state.last;
}
