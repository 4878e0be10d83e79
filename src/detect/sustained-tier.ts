// Sustained tier: slower growth proven over hours, before a full load cycle has been seen. Two rules,
// on the segment's buckets (the heap's lower envelope, so traffic bursts and sawtooth teeth drop out):
//  - beyond the cycle: over a span of several windows (4 h … 16 h at the defaults) the heap rose steadily
//    (in every quarter, without falling back, not as one step, not slowing down) at a Theil–Sen slope
//    that is surely above the steepest one a load cycle shows over such a span — for amplitude 30% of
//    its mean, or less when the history before the span proves the series never swings that far —
//    allowing for this series' own slope noise at that time scale; or, with a memory limit, surely on
//    course to reach it within the horizon (limit-course.ts).
//  - every quarter: the heap rose, significantly, within every quarter of the last three quarters of
//    a cycle (18 h of 24 h). Over such a stretch some quarter of any sinusoid falls by at least 0.4 of
//    the overall slope: a load cycle of any amplitude cannot pass this test, with a margin for noise.
import {
  MAX_CYCLE_AMPLITUDE,
  cycleAmplitudeBound,
  floorLevel,
  historicSlopeScale,
  historyBefore,
  settledSince,
} from "./envelope.ts";
import { formatDuration, formatPercent, formatRate } from "./format.ts";
import { binnedMedians } from "./hourly.ts";
import { limitRate, onCourseReason, type LimitRate } from "./limit-course.ts";
import { firstIndexFrom, largestFallBack, type MetricView } from "./metric-view.ts";
import { normalQuantile } from "./stats/normal.ts";
import { median } from "./stats/order.ts";
import { fitTrend, type TrendFit } from "./stats/trend-fit.ts";
import { SAMPLING_Z, samplingSlopeNoise } from "./sampling.ts";
import { stepExplains } from "./step.ts";
import { percentPerHour, type TierContext } from "./tier-context.ts";

const HOUR = 3_600_000;
/** Share of a cycle the every-quarter rule spans. */
const CYCLE_SHARE = 3 / 4;
/** Spans of the beyond-the-cycle rule, in windows (capped at CYCLE_SHARE of a cycle). */
const SPAN_WINDOWS = [2, 3, 4, 6, 8];
/** Each quarter's own slope must be at least this share of the overall slope. */
const MIN_QUARTER_SHARE = 0.4;
/** In the every-quarter rule, each quarter's growth must be significant at this level. */
const QUARTER_ALPHA = 0.1;
/** Coarse resolution of the tests: this share of a cycle (1 h of 24 h). */
const COARSE_SHARE = 1 / 24;
const SLOPE_CONFIDENCE = 0.9;
/** The history must cover this share of a cycle before it may bound the cycle's amplitude. */
const MIN_HISTORY_SHARE = 0.25;
/** The second half rising at less than this share of the first half's rate is a slowing tail. */
const MIN_HALF_RATIO = 0.5;
/** The beyond-the-cycle margin is taken at this multiple of the sensitivity's α. */
const NOISE_ALPHA_FACTOR = 5;
/** Fewest buckets a span is judged on. */
const MIN_POINTS = 8;
/**
 * With no history to measure it, slow traffic is assumed to move the lower envelope by this share (one
 * standard deviation) between any two moments: half the fast tier's assumption, as bursts and GC noise
 * have dropped out of the 15-minute buckets. Measured on the tuning seeds (diurnal 480–959): false alarms
 * 4 → 2 for one leak of 320 missed; at 3% five leaks are missed.
 */
const TRAFFIC_WANDER = 0.015;
/** Fewest changes in the history to estimate this series' slope noise from. */
const MIN_NOISE_PAIRS = 8;

export interface SustainedTierResult {
  readonly confirmed: boolean;
  readonly fit: TrendFit | null;
  readonly spanMs: number;
  readonly reasons: readonly string[];
}

export interface SustainedInputs {
  readonly buckets: MetricView;
  readonly blocks: MetricView;
  readonly segmentStart: number;
}

interface SpanCheck {
  readonly passes: boolean;
  readonly fit: TrendFit | null;
  readonly rel: number;
  readonly reason: string;
}

/** Every quarter of [from, to) rises by MIN_QUARTER_SHARE of the overall slope (significantly if asked). */
function everyQuarterRises(
  view: MetricView,
  from: number,
  to: number,
  fit: TrendFit,
  alpha: number | null,
): boolean {
  const start = view.t[from] ?? 0;
  const span = (view.t[to - 1] ?? start) - start;
  for (let q = 0; q < 4; q++) {
    const qFrom = firstIndexFrom(view, start + (q * span) / 4);
    const qTo = q === 3 ? to : firstIndexFrom(view, start + ((q + 1) * span) / 4);
    if (qTo - qFrom < 4) return false;
    const quarter = fitTrend(view.t, view.y, qFrom, qTo, SLOPE_CONFIDENCE);
    if (quarter.slopePerHour < MIN_QUARTER_SHARE * fit.slopePerHour) return false;
    if (alpha !== null && quarter.pGrowth >= alpha) return false;
  }
  return true;
}

const cycleSlopeMemo = new Map<string, number>();

/**
 * The steepest Theil–Sen slope (per hour, for amplitude 1) a sinusoidal cycle shows over a span of
 * `spanMs` sampled every `stepMs`, over all phases: what a cycle can fake on this test.
 */
export function maxCycleSlope(spanMs: number, cycleMs: number, stepMs: number): number {
  const key = `${spanMs}:${cycleMs}:${stepMs}`;
  const hit = cycleSlopeMemo.get(key);
  if (hit !== undefined) return hit;
  const n = Math.max(2, Math.min(64, Math.round(spanMs / stepMs) + 1));
  const hours = Array.from({ length: n }, (_, i) => ((i / (n - 1)) * spanMs) / HOUR);
  const w = (2 * Math.PI) / (cycleMs / HOUR);
  let best = 0;
  for (let k = 0; k < 48; k++) {
    const phase = (2 * Math.PI * k) / 48;
    const slopes: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const hi = hours[i] ?? 0;
        const hj = hours[j] ?? 0;
        slopes.push((Math.sin(w * hj + phase) - Math.sin(w * hi + phase)) / (hj - hi));
      }
    }
    best = Math.max(best, median(slopes));
  }
  cycleSlopeMemo.set(key, best);
  return best;
}

/** The second half rises at less than half the first half's rate: a tail of warm-up, not a leak. */
function slowsDown(view: MetricView, from: number, to: number): boolean {
  const mid = from + Math.floor((to - from) / 2);
  if (mid - from < 4 || to - mid < 4) return false;
  const first = fitTrend(view.t, view.y, from, mid, SLOPE_CONFIDENCE).slopePerHour;
  const second = fitTrend(view.t, view.y, mid, to, SLOPE_CONFIDENCE).slopePerHour;
  return first > 0 && second < MIN_HALF_RATIO * first;
}

function checkSpan(
  inputs: SustainedInputs,
  spanMs: number,
  floor: number,
  limit: LimitRate,
  ctx: TierContext,
): SpanCheck {
  const { buckets } = inputs;
  const { config, timing } = ctx;
  const n = buckets.t.length;
  const last = buckets.t[n - 1] ?? 0;
  const from = firstIndexFrom(buckets, last - spanMs + timing.bucketMs / 2);
  const none: SpanCheck = { passes: false, fit: null, rel: 0, reason: "" };
  if (n - from < Math.max(MIN_POINTS, 0.8 * (spanMs / timing.bucketMs))) return none;
  const start = buckets.t[from] ?? last;
  // A warm-up (time constant up to the ramp time) has all but ended two ramp times after the start.
  if (start - inputs.segmentStart < config.warmupMs + 2 * timing.rampMs) return none;
  const fit = fitTrend(buckets.t, buckets.y, from, n, SLOPE_CONFIDENCE);
  const reference = Math.min(fit.median, floor > 0 ? floor / (1 - MAX_CYCLE_AMPLITUDE) : fit.median);
  const rel = percentPerHour(fit.slopePerHour, reference);
  const relLow = percentPerHour(fit.slopeLowPerHour, reference);
  const span = formatDuration(spanMs);
  if (
    fit.pGrowth >= ctx.preset.alpha ||
    fit.slopePerHour < ctx.minAbsPerHour ||
    rel < config.minGrowthPercentPerHour
  ) {
    return { passes: false, fit, rel, reason: "" };
  }
  const coarse = binnedMedians(buckets.t.slice(from), buckets.y.slice(from), config.cycleMs * COARSE_SHARE);
  const rise = fit.slopePerHour * (spanMs / HOUR);
  if (
    !everyQuarterRises(buckets, from, n, fit, null) ||
    largestFallBack(coarse.y, 0, coarse.y.length) > 0.5 * rise
  ) {
    return {
      passes: false,
      fit,
      rel,
      reason: `grew ${formatPercent(rel)}/h over ${span} but not in every part of it`,
    };
  }
  if (slowsDown(buckets, from, n) || stepExplains(buckets, from, fit) !== null) {
    return {
      passes: false,
      fit,
      rel,
      reason: `grew ${formatPercent(rel)}/h over ${span}, but as a step or slowing down`,
    };
  }
  // How far a load cycle could swing: 30%, or what the history before the span allows.
  const history = historyBefore(
    inputs.blocks,
    buckets,
    1,
    timing.bucketMs,
    start,
    Math.max(inputs.segmentStart + config.warmupMs, start - config.cycleMs),
  );
  // The cycle's mean is at most floor / (1 − 30%); its amplitude at most 30% of that, or what the
  // history allows. The steepest slope such a cycle shows on this test, relative to the reference:
  const meanMax = floor > 0 ? floor / (1 - MAX_CYCLE_AMPLITUDE) : reference;
  const bound =
    history === null
      ? null
      : cycleAmplitudeBound(
          history,
          config.cycleMs,
          config.cycleMs * MIN_HISTORY_SHARE,
          config.cycleMs * COARSE_SHARE,
        );
  const amplitudeBytes = Math.min(MAX_CYCLE_AMPLITUDE * meanMax, bound ?? Infinity);
  const amplitude = amplitudeBytes / meanMax;
  const cycleRate =
    (100 * amplitudeBytes * maxCycleSlope(spanMs, config.cycleMs, timing.bucketMs)) / reference;
  // Slope noise at this time scale: from the history, else the span's own wander around its trend.
  const historic = history === null ? null : historicSlopeScale(history, spanMs, MIN_NOISE_PAIRS);
  // Without a history long enough to measure it, the span's own wander can be small on a smooth
  // climb; slow traffic swings are then assumed to move the envelope by TRAFFIC_WANDER between its ends.
  const assumed = (Math.SQRT2 * TRAFFIC_WANDER * reference) / (spanMs / HOUR);
  const noise = percentPerHour(
    historic ?? Math.max(wander(buckets, from, fit, spanMs, ctx), assumed),
    reference,
  );
  // Judged at the stricter of 95% and the sensitivity's α × 5: the test runs at every bucket for hours.
  const z = Math.max(
    normalQuantile(0.5 + SLOPE_CONFIDENCE / 2),
    normalQuantile(1 - NOISE_ALPHA_FACTOR * ctx.preset.alpha),
  );
  const ciScale = z / normalQuantile(0.5 + SLOPE_CONFIDENCE / 2);
  const sampling = percentPerHour(samplingSlopeNoise(fit.median, spanMs / HOUR, ctx), reference);
  const surely = rel - Math.hypot(ciScale * (rel - relLow), z * noise, SAMPLING_Z * sampling);
  // Steady growth on course to the memory limit is an alarm whatever a cycle could do.
  if (surely < Math.min(cycleRate, limit(fit.level, reference))) {
    return {
      passes: false,
      fit,
      rel,
      reason: `grew ${formatPercent(rel)}/h over ${span}: within what a load cycle of ±${formatPercent(100 * amplitude)} and this series' swings produce`,
    };
  }
  const settled = reference < 0.95 * fit.median ? " of the level it settled at" : "";
  const why =
    surely < cycleRate
      ? onCourseReason(ctx)
      : `faster than a load cycle of ±${formatPercent(100 * amplitude)} can climb over that span`;
  return {
    passes: true,
    fit,
    rel,
    reason: `grew ${formatPercent(rel)}/h${settled} (${formatRate(fit.slopePerHour, ctx.kind)}) steadily over ${span}, ${why}`,
  };
}

/** The span's coarse medians' scale around its trend, as the level change it could fake over the span. */
function wander(view: MetricView, from: number, fit: TrendFit, spanMs: number, ctx: TierContext): number {
  const n = view.t.length;
  const tEnd = view.t[n - 1] ?? 0;
  const residuals: number[] = [];
  for (let i = from; i < n; i++) {
    residuals.push((view.y[i] ?? 0) - fit.level - (fit.slopePerHour * ((view.t[i] ?? 0) - tEnd)) / HOUR);
  }
  const coarse = binnedMedians(view.t.slice(from), residuals, ctx.config.cycleMs * COARSE_SHARE);
  const deviations = coarse.y.map((v) => Math.abs(v - median(coarse.y)));
  return (Math.SQRT2 * 1.4826 * median(deviations)) / (spanMs / HOUR);
}

function everyQuarterRule(inputs: SustainedInputs, floor: number, ctx: TierContext): SpanCheck {
  const { buckets } = inputs;
  const { config, timing } = ctx;
  const spanMs = config.cycleMs * CYCLE_SHARE;
  const n = buckets.t.length;
  const last = buckets.t[n - 1] ?? 0;
  const from = firstIndexFrom(buckets, last - spanMs + timing.bucketMs / 2);
  const none: SpanCheck = { passes: false, fit: null, rel: 0, reason: "" };
  if (n - from < Math.max(4 * MIN_POINTS, 0.8 * (spanMs / timing.bucketMs))) return none;
  if ((buckets.t[from] ?? last) - inputs.segmentStart < config.warmupMs + timing.rampMs) return none;
  const coarse = binnedMedians(buckets.t.slice(from), buckets.y.slice(from), config.cycleMs * COARSE_SHARE);
  const fit = fitTrend(coarse.t, coarse.y, 0, coarse.t.length, SLOPE_CONFIDENCE);
  const reference = Math.min(fit.median, floor > 0 ? floor / (1 - MAX_CYCLE_AMPLITUDE) : fit.median);
  const rel = percentPerHour(fit.slopePerHour, reference);
  if (
    fit.pGrowth >= ctx.preset.alpha ||
    fit.slopePerHour < ctx.minAbsPerHour ||
    rel < config.minGrowthPercentPerHour
  ) {
    return { passes: false, fit, rel, reason: "" };
  }
  const rise = fit.slopePerHour * (spanMs / HOUR);
  const samplingRise = SAMPLING_Z * samplingSlopeNoise(fit.median, spanMs / HOUR, ctx) * (spanMs / HOUR);
  if (rise < samplingRise) {
    return {
      passes: false,
      fit,
      rel,
      reason: `grew ${formatPercent(rel)}/h over ${formatDuration(spanMs)}: within the heap profile's sampling error`,
    };
  }
  if (
    !everyQuarterRises(buckets, from, n, fit, QUARTER_ALPHA) ||
    largestFallBack(coarse.y, 0, coarse.y.length) > 0.5 * rise
  ) {
    return {
      passes: false,
      fit,
      rel,
      reason: `grew ${formatPercent(rel)}/h over ${formatDuration(spanMs)} but not in every part of it`,
    };
  }
  const bucketFit = fitTrend(buckets.t, buckets.y, from, n, SLOPE_CONFIDENCE);
  if (stepExplains(buckets, from, bucketFit) !== null) {
    return {
      passes: false,
      fit,
      rel,
      reason: `grew ${formatPercent(rel)}/h over ${formatDuration(spanMs)}, but as one step`,
    };
  }
  return {
    passes: true,
    fit,
    rel,
    reason: `grew ${formatPercent(rel)}/h (${formatRate(fit.slopePerHour, ctx.kind)}) in every quarter of the last ${formatDuration(spanMs)}: longer than a load cycle can keep climbing`,
  };
}

export function evaluateSustainedTier(inputs: SustainedInputs, ctx: TierContext): SustainedTierResult {
  const { buckets } = inputs;
  const { config, timing } = ctx;
  const last = buckets.t[buckets.t.length - 1] ?? 0;
  const floor = floorLevel(
    inputs.blocks,
    buckets,
    Math.max(1, Math.round(timing.bucketMs / timing.blockMs)),
    Math.max(
      last - config.cycleMs,
      settledSince(inputs.blocks, buckets, inputs.segmentStart + config.warmupMs, timing.rampMs),
    ),
  );
  const maxSpan = config.cycleMs * CYCLE_SHARE;
  const spans = [...new Set(SPAN_WINDOWS.map((w) => Math.min(maxSpan, w * config.windowMs)))];
  const limit = limitRate(inputs.blocks, ctx);
  let best: { check: SpanCheck; spanMs: number } | null = null;
  let reason = "";
  for (const spanMs of spans) {
    const check = checkSpan(inputs, spanMs, floor, limit, ctx);
    if (check.passes) best = { check, spanMs };
    else if (check.reason !== "") reason = check.reason;
  }
  if (best === null) {
    const quarters = everyQuarterRule(inputs, floor, ctx);
    if (quarters.passes) best = { check: quarters, spanMs: maxSpan };
    else if (quarters.reason !== "") reason = quarters.reason;
  }
  if (best === null) {
    return { confirmed: false, fit: null, spanMs: 0, reasons: reason === "" ? [] : [reason] };
  }
  return { confirmed: true, fit: best.check.fit, spanMs: best.spanMs, reasons: [best.check.reason] };
}
