// Shape tests of the fast tier: how a span of blocks rises (steadily, in jumps, slowing down, in one
// step) and how much of its slope traffic alone could fake.
import { MAX_CYCLE_AMPLITUDE, runningMedian } from "./envelope.ts";
import type { MetricView } from "./metric-view.ts";
import { normalQuantile } from "./stats/normal.ts";
import { median, robustScale } from "./stats/order.ts";
import { fitTrend, type TrendFit } from "./stats/trend-fit.ts";
import type { TierContext } from "./tier-context.ts";

const HOUR = 3_600_000;
/** Slope intervals are two-sided at this level (one-sided 95% bounds). */
export const SLOPE_CONFIDENCE = 0.9;
/** A block-to-block jump above this share of the rise means the growth comes in jumps... */
const JUMPY_SHARE = 0.25;
/** ... when it also stands this many robust standard deviations of the block-to-block changes out. */
const JUMP_NOISE_FACTOR = 4;
/** A sharp drop of at least this share of the rise, and this many robust SDs of the noise, is a release. */
const RELEASE_SHARE = 0.15;
const RELEASE_NOISE_FACTOR = 3;
/** Each third of the suffix must rise by at least this share of its expected rise. */
const MIN_THIRD_SHARE = 0.25;
/** The second half rising at less than this share of the first half's rate is deceleration. */
const MIN_HALF_RATIO = 0.7;
/** The warm-up test runs at this multiple of the sensitivity's α (it is one of several conditions). */
const WARMUP_TEST_ALPHA_FACTOR = 1;

/**
 * The steepest a load cycle of ±30% climbs relative to its current level, %/h: 2π·30%/cycle, over
 * √(1 − 0.3²) at the phase where slope over level peaks (8.2%/h for a 24 h cycle).
 */
export function cycleRatePercent(cycleMs: number): number {
  const a = MAX_CYCLE_AMPLITUDE;
  return (100 * a * ((2 * Math.PI) / (cycleMs / HOUR))) / Math.sqrt(1 - a * a);
}

/**
 * Slope noise from the suffix alone: the robust scale of its residuals around the trend, at bucket
 * resolution (so GC noise averages out and slow traffic swings remain), as a level change over the
 * suffix — what a swing of that size could fake.
 */
export function wanderNoise(view: MetricView, from: number, fit: TrendFit, ctx: TierContext): number {
  const to = view.t.length;
  const tEnd = view.t[to - 1] ?? 0;
  const residuals: number[] = [];
  for (let i = from; i < to; i++) {
    residuals.push((view.y[i] ?? 0) - fit.level - (fit.slopePerHour * ((view.t[i] ?? 0) - tEnd)) / HOUR);
  }
  const width = Math.max(3, Math.min(residuals.length, Math.round(ctx.timing.bucketMs / ctx.blockMs)));
  const smooth = runningMedian(residuals, 0, residuals.length, width);
  return (Math.SQRT2 * robustScale(smooth)) / ((fit.spanMs + ctx.blockMs) / HOUR);
}

/** Largest rise over at most `span` consecutive steps; `at` is where the rise ends. */
export function largestRiseWithin(
  y: readonly number[],
  from: number,
  to: number,
  span: number,
): { size: number; at: number } {
  let size = 0;
  let at = from;
  for (let i = from + 1; i < to; i++) {
    for (let k = 1; k <= span && i - k >= from; k++) {
      const d = (y[i] ?? 0) - (y[i - k] ?? 0);
      if (d > size) {
        size = d;
        at = i;
      }
    }
  }
  return { size, at };
}

/**
 * The first third of the suffix rises at its own slope of at least MIN_THIRD_SHARE of the whole
 * suffix's. A flat stretch followed by stacked traffic bursts passes the thirds-by-medians test (the
 * middle third already holds part of the climb) but not this one.
 */
export function firstThirdRises(view: MetricView, from: number, fit: TrendFit): boolean {
  const end = from + Math.floor((view.t.length - from) / 3);
  if (end - from < 4) return true; // too few blocks to fit: the other tests decide
  const early = fitTrend(view.t, view.y, from, end, SLOPE_CONFIDENCE);
  return early.slopePerHour >= MIN_THIRD_SHARE * fit.slopePerHour;
}

/** Every third of the suffix rises (a step or a short ramp leaves one flat), by medians. */
export function risesEveryThird(view: MetricView, from: number, fit: TrendFit): boolean {
  const n = view.t.length - from;
  const third = Math.floor(n / 3);
  if (third < 2) return false;
  const m1 = median(view.y.slice(from, from + third));
  const m2 = median(view.y.slice(from + third, from + n - third));
  const m3 = median(view.y.slice(from + n - third));
  const expected = (fit.slopePerHour * (fit.spanMs / HOUR)) / 3;
  return m2 - m1 >= MIN_THIRD_SHARE * expected && m3 - m2 >= MIN_THIRD_SHARE * expected;
}

/** The second half grows clearly slower than the first: growth decelerating into a plateau. */
export function decelerates(view: MetricView, from: number, ctx: TierContext): boolean {
  const n = view.t.length - from;
  if (n < 2 * ctx.timing.minBlocks) return false;
  const mid = from + Math.floor(n / 2);
  const first = fitTrend(view.t, view.y, from, mid, SLOPE_CONFIDENCE);
  const second = fitTrend(view.t, view.y, mid, view.t.length, SLOPE_CONFIDENCE);
  return first.slopePerHour > 0 && second.slopePerHour < MIN_HALF_RATIO * first.slopePerHour;
}

/**
 * The rise comes in jumps: one rise over one or two blocks carries a good share of it and stands out
 * from the block-to-block noise (a smooth leak under GC noise has many small ups and downs instead).
 */
export function growsInJumps(
  y: readonly number[],
  from: number,
  to: number,
  rise: number,
  noiseFactor = JUMP_NOISE_FACTOR,
): boolean {
  const diffs: number[] = [];
  for (let i = from + 1; i < to; i++) diffs.push((y[i] ?? 0) - (y[i - 1] ?? 0));
  const noise = robustScale(diffs);
  const jump = largestRiseWithin(y, from, to, 2).size;
  return jump > JUMPY_SHARE * rise && jump > noiseFactor * noise;
}

/**
 * Growth that began soon after the start may be a warm-up: an exponential approach to a plateau with
 * a time constant up to the ramp time, whose second half over a span L rises at most e^(−L/2R) as
 * fast as its first — on top of, at most, a load cycle's steepest climb. Ruled out when the second
 * half's slope is significantly above that.
 */
export function ruledOutWarmup(
  view: MetricView,
  from: number,
  rampMs: number,
  cycleSlopePerHour: number,
  ctx: TierContext,
): boolean {
  const to = view.t.length;
  const n = to - from;
  if (n < ctx.timing.minBlocks) return false;
  const mid = from + Math.floor(n / 2);
  const first = fitTrend(view.t, view.y, from, mid, SLOPE_CONFIDENCE);
  const second = fitTrend(view.t, view.y, mid, to, SLOPE_CONFIDENCE);
  if (first.slopePerHour <= 0) return false;
  const spanMs = (view.t[to - 1] ?? 0) - (view.t[from] ?? 0);
  const rho = Math.exp(-spanMs / (2 * rampMs));
  const z90 = normalQuantile(0.5 + SLOPE_CONFIDENCE / 2);
  const se = (f: TrendFit): number => (f.slopeHighPerHour - f.slopeLowPerHour) / (2 * z90);
  const sd = Math.sqrt(se(second) ** 2 + (rho * se(first)) ** 2);
  if (!(sd > 0)) return false;
  // A load cycle's climb adds to both halves alike: s2 − ρ·s1 may reach c·(1 − ρ) from it alone.
  const excess = second.slopePerHour - rho * first.slopePerHour - cycleSlopePerHour * (1 - rho);
  return excess / sd > normalQuantile(1 - WARMUP_TEST_ALPHA_FACTOR * ctx.preset.alpha);
}

/**
 * Block-to-block noise of [from, to): the robust scale of the changes between neighbouring blocks
 * (√2 times the noise of one block; a trend of the rate the fast tier looks at hardly moves it).
 */
export function stepNoise(y: readonly number[], from: number, to: number): number {
  const diffs: number[] = [];
  for (let i = from + 1; i < to; i++) diffs.push((y[i] ?? 0) - (y[i - 1] ?? 0));
  return diffs.length === 0 ? 0 : robustScale(diffs);
}

/**
 * The span gave some of its rise back at once: a drop over one or two blocks of at least a share of
 * the rise that stands out from the block-to-block noise (a burst ending; a leak never does that).
 */
export function releases(y: readonly number[], from: number, to: number, rise: number): boolean {
  const diffs: number[] = [];
  for (let i = from + 1; i < to; i++) diffs.push((y[i] ?? 0) - (y[i - 1] ?? 0));
  const noise = robustScale(diffs);
  const negated = y.slice(from, to).map((v) => -v);
  const drop = largestRiseWithin(negated, 0, negated.length, 2).size;
  return drop > RELEASE_SHARE * rise && drop > RELEASE_NOISE_FACTOR * noise;
}
