// Fast tier: growth faster than a daily load cycle can produce, called within the hour.
// Looks at nested suffixes of the window (a fifth of it … all of it) and keeps the longest one that
// grows fast, significantly (Mann–Kendall with the Hamed–Rao correction), steadily (Kendall's tau,
// every third of it rising), without falling back (sawtooth), not as one jump (a step) and not slowing
// down (a cache filling up). Rates are relative to the level a load cycle could swing around (at most
// the floor of the segment over 1 − 30%), so a leak that has already doubled the heap stays fast.
// A healthy ramp (a tooth, a burst, a warm-up) is bounded in time and, for a series with a history,
// in amplitude: growth that lifts the heap well above everything the history has shown is called at
// once; growth inside the envelope must outlast the longest healthy ramp (twice that when it comes in
// jumps, when the history swings as much, or when it began soon after the start).
import {
  MAX_CYCLE_AMPLITUDE,
  cycleAmplitudeBound,
  floorLevel,
  historicSlopeScale,
  historyBefore,
  settledSince,
  type History,
} from "./envelope.ts";
import {
  SLOPE_CONFIDENCE,
  cycleRatePercent,
  decelerates,
  firstThirdRises,
  growsInJumps,
  largestRiseWithin,
  releases,
  risesEveryThird,
  ruledOutWarmup,
  stepNoise,
  wanderNoise,
} from "./fast-checks.ts";
import { formatBytes, formatDuration, formatPercent, formatRate } from "./format.ts";
import { limitRate, onCourseReason, type LimitRate } from "./limit-course.ts";
import { firstIndexFrom, largestFallBack, type MetricView } from "./metric-view.ts";
import { normalQuantile } from "./stats/normal.ts";
import { lowQuartile } from "./stats/order.ts";
import { SAMPLING_Z, samplingSlopeNoise } from "./sampling.ts";
import { stepExplains } from "./step.ts";
import { fitTrend, quickGrowthP, type TrendFit } from "./stats/trend-fit.ts";
import { percentPerHour, type TierContext } from "./tier-context.ts";

/** Suffix lengths tried, as shares of the window. */
const SPAN_SHARES = [0.2, 0.3, 0.5, 0.75, 1];
const MIN_TAU = 0.5;
/** A suffix may not fall back by more than this share of its rise. */
const MAX_FALL_BACK_SHARE = 0.5;
/** One jump may not carry more than this share of the rise unless growth continues after it. */
const MAX_JUMP_SHARE = 0.5;
const HOUR = 3_600_000;

/**
 * With no history to measure it, traffic is assumed to move the level by this share (one standard
 * deviation) between any two moments: the slope noise of a span of length T is then √2·3%/T.
 */
const TRAFFIC_WANDER = 0.03;
/** The margin over a load cycle is taken at this multiple of the sensitivity's α. */
const NOISE_ALPHA_FACTOR = 5;
/** For a breakout, a jump standing this many robust SDs out of the noise already makes growth jumpy. */
const BREAKOUT_JUMP_NOISE_FACTOR = 3;
/** The history must cover this share of a cycle before it may bound the cycle's amplitude. */
const MIN_HISTORY_SHARE = 0.25;
/** Fewest changes in the history to estimate this series' slope noise from. */
const MIN_NOISE_PAIRS = 8;
/**
 * The largest fall-back of a span is also an extreme of its noise (a GC-noise high, then a low a few
 * blocks later): a fall counts as a sawtooth's release only beyond this many block-to-block noise
 * scales. A single jump is not given this allowance: a step's rise is judged on its size alone.
 */
const FALL_BACK_NOISE_FACTOR = 3;
/** A step's ramp may span this share of the window (12 min at the default 2 h). */
const STEP_SHARE = 0.1;
export interface FastTierResult {
  readonly confirmed: boolean;
  /** Fast growth is present but has not yet lasted long enough or is slowing. */
  readonly growing: boolean;
  /** The deciding fit: the longest passing suffix, else the whole window. */
  readonly fit: TrendFit;
  readonly windowFit: TrendFit;
  readonly growingForMs: number;
  /** The level rates are relative to (see the module comment). */
  readonly reference: number;
  readonly reasons: readonly string[];
}

interface Check {
  readonly passes: boolean;
  readonly reason: string;
}

function stepBlocks(ctx: TierContext): number {
  return Math.max(2, Math.round(STEP_SHARE * ctx.timing.windowBlocks));
}

/** Slope noise of the series at a time scale, from its own history (bytes or goroutines per hour). */
type SlopeNoise = (lagMs: number, before: number) => number | null;

function checkSuffix(
  view: MetricView,
  from: number,
  fit: TrendFit,
  reference: number,
  noise: SlopeNoise,
  limit: LimitRate,
  ctx: TierContext,
): Check {
  const to = view.t.length;
  const fastPercent = ctx.config.fastGrowthPercentPerHour * ctx.preset.fastFactor;
  const ref = Math.min(fit.median, reference);
  const rel = percentPerHour(fit.slopePerHour, ref);
  const relLow = percentPerHour(fit.slopeLowPerHour, ref);
  const span = formatDuration(fit.spanMs + ctx.blockMs);
  if (fit.pGrowth >= ctx.preset.alpha) {
    return {
      passes: false,
      reason: `no significant growth over the last ${span} (p=${fit.pGrowth.toPrecision(2)})`,
    };
  }
  if (fit.slopePerHour < ctx.minAbsPerHour || rel < ctx.config.minGrowthPercentPerHour) {
    return {
      passes: false,
      reason: `growth ${formatRate(fit.slopePerHour, ctx.kind)} (${formatPercent(rel)}/h) is below the minimum`,
    };
  }
  // Growth surely fast enough to reach the memory limit within the horizon needs no proof that it
  // outpaces a load cycle: it is an alarm either way. It must still pass every shape test below.
  const cycleBar = Math.min(cycleRatePercent(ctx.config.cycleMs), fastPercent);
  const limitBar = limit(fit.level, ref);
  const fastBar = Math.min(fastPercent, limitBar);
  const sureBar = Math.min(cycleBar, limitBar);
  if (rel < fastBar || relLow < sureBar) {
    return {
      passes: false,
      reason: `growth ${formatPercent(rel)}/h over ${span} is within what a daily load cycle produces (fast tier needs ${formatPercent(fastBar)}/h, at least ${formatPercent(sureBar)}/h surely)`,
    };
  }
  // The same test with the slope noise this series has shown at this time scale before. With no
  // history (growth since the start), nothing says how far traffic alone wanders: then the noise is the
  // larger of the suffix's own wander around its trend and an assumed traffic wander. Either way the
  // growth must be surely above what a load cycle can climb: the noise term already carries the doubt.
  // A sampled heap profile adds its own error, which no history may be short of.
  const spanHours = (fit.spanMs + ctx.blockMs) / HOUR;
  const sampling = samplingSlopeNoise(fit.median, spanHours, ctx);
  const historic = noise(fit.spanMs + ctx.blockMs, view.t[from] ?? 0);
  const slopeNoise =
    historic === null
      ? Math.max(
          wanderNoise(view, from, fit, ctx),
          Math.hypot((Math.SQRT2 * TRAFFIC_WANDER * ref) / spanHours, sampling),
        )
      : Math.max(historic, sampling);
  // Judged at the stricter of 95% and the sensitivity's α × 5: the test runs at every block.
  const z95 = normalQuantile(0.5 + SLOPE_CONFIDENCE / 2);
  const z = Math.max(z95, normalQuantile(1 - NOISE_ALPHA_FACTOR * ctx.preset.alpha));
  const margin = Math.hypot(
    (z / z95) * (rel - relLow),
    z * percentPerHour(slopeNoise, ref),
    SAMPLING_Z * percentPerHour(sampling, ref),
  );
  if (rel - margin < sureBar) {
    return {
      passes: false,
      reason: `growth ${formatPercent(rel)}/h over ${span} is within what ${historic === null ? "traffic swings" : "this series' own swings"} and a daily load cycle produce`,
    };
  }
  if (fit.tau < MIN_TAU) {
    return { passes: false, reason: `growth over ${span} is irregular (tau ${fit.tau.toFixed(2)})` };
  }
  // A span that starts flat overstates how long the growth has lasted: a shorter one must carry it.
  if (!firstThirdRises(view, from, fit)) {
    return { passes: false, reason: `growth over ${span} began later than that (its first third is flat)` };
  }
  const rise = fit.slopePerHour * ((fit.spanMs + ctx.blockMs) / HOUR);
  const fall = largestFallBack(view.y, from, to);
  if (fall > MAX_FALL_BACK_SHARE * rise + FALL_BACK_NOISE_FACTOR * stepNoise(view.y, from, to)) {
    return {
      passes: false,
      reason: `falls back by ${formatPercent((100 * fall) / fit.median)} within ${span}: a sawtooth, not a leak`,
    };
  }
  // One rise over a few blocks carrying most of the rise: a step, unless fast growth goes on after it.
  const jump = largestRiseWithin(view.y, from, to, stepBlocks(ctx));
  if (jump.size > MAX_JUMP_SHARE * rise) {
    const after = to - jump.at;
    const continued =
      after >= ctx.timing.minBlocks ? fitTrend(view.t, view.y, jump.at, to, SLOPE_CONFIDENCE) : null;
    const keepsGrowing =
      continued !== null &&
      continued.pGrowth < ctx.preset.alpha &&
      percentPerHour(continued.slopePerHour, Math.min(continued.median, reference)) >= fastPercent;
    if (!keepsGrowing) {
      const size = ctx.kind === "heap" ? formatBytes(jump.size) : `${Math.round(jump.size)} goroutines`;
      return { passes: false, reason: `one step up of ${size}, not steady growth` };
    }
  }
  const step = stepExplains(view, from, fit);
  if (step !== null) {
    const size = ctx.kind === "heap" ? formatBytes(step) : `${Math.round(step)} goroutines`;
    return { passes: false, reason: `one step up of ${size} explains it better than steady growth` };
  }
  const headsForLimit = rel < fastPercent || relLow < cycleBar || rel - margin < cycleBar;
  return {
    passes: true,
    reason: `grew ${formatPercent(rel)}/h${ref < 0.95 * fit.median ? " of the level it settled at" : ""} (${formatRate(fit.slopePerHour, ctx.kind)}) for ${span}${headsForLimit ? `, ${onCourseReason(ctx)}` : ""}`,
  };
}

/** Distinct suffix lengths in blocks, shortest first. */
function spanBlocks(ctx: TierContext): number[] {
  const { windowBlocks, minBlocks } = ctx.timing;
  return [...new Set(SPAN_SHARES.map((s) => Math.max(minBlocks, Math.round(s * windowBlocks))))];
}

export function evaluateFastTier(
  view: MetricView,
  buckets: MetricView,
  segmentStart: number,
  previousLevel: number | null,
  ctx: TierContext,
): FastTierResult {
  const { timing, config } = ctx;
  const n = view.t.length;
  const last = view.t[n - 1] ?? 0;
  const windowFit = fitTrend(view.t, view.y, 0, n, SLOPE_CONFIDENCE);
  const blocksPerBucket = Math.max(1, Math.round(timing.bucketMs / timing.blockMs));
  const floor = floorLevel(
    view,
    buckets,
    blocksPerBucket,
    Math.max(
      last - config.cycleMs,
      settledSince(view, buckets, segmentStart + config.warmupMs, timing.rampMs),
    ),
  );
  const reference = floor > 0 ? floor / (1 - MAX_CYCLE_AMPLITUDE) : windowFit.median;
  const historySince = Math.max(segmentStart + config.warmupMs, last - config.cycleMs);
  const limit = limitRate(view, ctx);
  const noise: SlopeNoise = (lagMs, before) => {
    const h = historyBefore(view, buckets, blocksPerBucket, timing.bucketMs, before, historySince);
    return h === null ? null : historicSlopeScale(h, lagMs, MIN_NOISE_PAIRS);
  };
  let best: { fit: TrendFit; from: number; reason: string } | null = null;
  let lastFailure = "";
  for (const blocks of spanBlocks(ctx)) {
    const from = firstIndexFrom(view, last - (blocks - 0.5) * ctx.blockMs);
    if (n - from < Math.max(timing.minBlocks, 0.7 * blocks)) {
      if (from === 0) break;
      continue;
    }
    if (from !== 0 && quickGrowthP(view.y, from, n) >= ctx.preset.alpha) {
      lastFailure = `no significant growth over the last ${formatDuration(last - (view.t[from] ?? last) + ctx.blockMs)}`;
      continue;
    }
    const fit = from === 0 ? windowFit : fitTrend(view.t, view.y, from, n, SLOPE_CONFIDENCE);
    const check = checkSuffix(view, from, fit, reference, noise, limit, ctx);
    if (check.passes) best = { fit, from, reason: check.reason };
    else lastFailure = check.reason;
    if (from === 0) break;
  }
  if (best === null) {
    return {
      confirmed: false,
      growing: false,
      fit: windowFit,
      windowFit,
      growingForMs: 0,
      reference,
      reasons: [lastFailure],
    };
  }

  const { fit, from } = best;
  const growingForMs = fit.spanMs + ctx.blockMs;
  const reasons = [best.reason];
  const judged = (confirmed: boolean, why: string): FastTierResult => ({
    confirmed,
    growing: true,
    fit,
    windowFit,
    growingForMs,
    reference,
    reasons: [...reasons, why],
  });
  const pending = (why: string): FastTierResult => judged(false, why);
  const recentFrom = firstIndexFrom(view, last - (timing.minBlocks - 0.5) * ctx.blockMs);
  const recent = fitTrend(view.t, view.y, recentFrom, n, SLOPE_CONFIDENCE);
  if (recent.slopePerHour < 0.25 * fit.slopePerHour && recent.pGrowth > 0.05) {
    return pending(`growth stopped in the last ${formatDuration(recent.spanMs + ctx.blockMs)}`);
  }
  if (decelerates(view, from, ctx)) return pending("growth is slowing down, like a cache filling up");
  if (!risesEveryThird(view, from, fit))
    return pending("the rise is not spread over the whole period (a step or a short ramp)");

  const rampMs = timing.rampMs * ctx.preset.spanFactor;
  const rise = fit.slopePerHour * (growingForMs / HOUR);
  const growthStart = view.t[from] ?? last;
  const inJumps = growsInJumps(view.y, from, n, rise);
  // Growth that began soon after the start may still be warm-up.
  const young = growthStart - segmentStart < config.warmupMs + rampMs;
  const history = historyBefore(view, buckets, blocksPerBucket, timing.bucketMs, growthStart, historySince);
  // A breakout must be smooth growth: a rise made of a few big jumps is a stack of traffic bursts.
  const smooth = !growsInJumps(view.y, from, n, rise, BREAKOUT_JUMP_NOISE_FACTOR);
  // The heap's history is a lower envelope (each bucket's low quartile of blocks): the current level
  // it is compared with must be one too, or a noise peak stands out against past troughs.
  const current =
    ctx.kind === "heap" ? lowQuartile(view.y.slice(Math.max(from, n - blocksPerBucket), n)) : fit.level;
  const breakout =
    young || inJumps || !smooth ? null : breakoutReason(fit, current, history, rampMs, reference, ctx);
  if (breakout !== null) return judged(true, breakout);

  // A healthy ramp (a batch buffer, a sawtooth tooth) can climb for maxHealthyRamp and fall back;
  // growth in jumps (traffic bursts that hold and release) or after swings as large needs twice that.
  // Swings as large before: the history fell back by half the rise, or the growth so far only climbs
  // back towards levels the history has already reached.
  const startLevel = fit.level - rise;
  // The growth so far only climbed back towards levels the history already reached: the series has
  // done this before, so time alone proves nothing (a breakout or the sustained tier must).
  const withinEnvelope = history !== null && history.max - startLevel >= MAX_FALL_BACK_SHARE * rise;
  if (withinEnvelope) {
    return pending("the heap has been this high before: waiting until it rises clearly above those levels");
  }
  // Growth that gave some of it back at once (a sharp drop standing out from the noise) is traffic
  // bursts holding and releasing, however long the staircase: a leak never gives anything back.
  if (releases(view.y, from, n, rise)) {
    return pending("it gave some of its rise back at once, like traffic bursts that hold and release");
  }
  const bumpy = history !== null && history.fallBack >= MAX_FALL_BACK_SHARE * rise;
  if (young) {
    // Growth since the start: a warm-up unless it keeps its pace, and it must outlast a ramp
    // (twice that in jumps or after swings as large).
    const youngRequiredMs = inJumps || bumpy ? 2 * rampMs : rampMs;
    if (growingForMs < youngRequiredMs) {
      return pending(
        `growth began soon after the start and may still be warm-up: it must last ${formatDuration(youngRequiredMs)}`,
      );
    }
    if (previousLevel !== null && fit.level <= previousLevel) {
      return pending("climbing back to the level the run before the restart settled at");
    }
    const cycleSlope = (cycleRatePercent(config.cycleMs) / 100) * reference;
    if (!ruledOutWarmup(view, from, rampMs, cycleSlope, ctx)) {
      return pending(
        "growth began soon after the start and has not yet kept its pace long enough to rule out a warm-up",
      );
    }
    return judged(true, "it keeps its pace: a warm-up would have slowed down by now");
  }
  const requiredMs = inJumps || bumpy ? 2 * rampMs : rampMs;
  if (growingForMs < requiredMs) {
    const why = inJumps
      ? `it grows in jumps, like traffic bursts that may still release: growth must last ${formatDuration(requiredMs)}`
      : bumpy
        ? `the heap swung this much before: growth must last ${formatDuration(requiredMs)}`
        : `waiting until it has grown for ${formatDuration(requiredMs)}: a healthy ramp can climb that long and fall back`;
    return pending(why);
  }
  return { confirmed: true, growing: true, fit, windowFit, growingForMs, reference, reasons };
}

/**
 * Growth that has lifted the heap well above the envelope of a history at least two ramps long: above
 * its highest level by more than the history's own largest excursion. A healthy ramp stays inside what
 * the series has shown before; a leak leaves it.
 */
function breakoutReason(
  fit: TrendFit,
  current: number,
  history: History | null,
  rampMs: number,
  reference: number,
  ctx: TierContext,
): string | null {
  if (history === null || history.spanMs < 2 * rampMs) return null;
  const excursion = Math.max(history.max - history.median, 3 * history.scale);
  // A load cycle keeps setting new highs on its rising side: allow for its steepest climb over the
  // growth, for the largest cycle the history allows (30% of the level when it cannot tell).
  const bound = cycleAmplitudeBound(
    history,
    ctx.config.cycleMs,
    ctx.config.cycleMs * MIN_HISTORY_SHARE,
    ctx.timing.bucketMs,
  );
  const amplitude = Math.min(MAX_CYCLE_AMPLITUDE * reference, bound ?? Infinity);
  const cycleClimb = amplitude * ((2 * Math.PI) / ctx.config.cycleMs) * (fit.spanMs + ctx.blockMs);
  const above = current - history.max;
  if (above < excursion + cycleClimb) return null;
  const what = ctx.kind === "heap" ? formatBytes(above) : `${Math.round(above)} goroutines`;
  return `${what} above the highest level of the last ${formatDuration(history.spanMs)}, more than its largest swing`;
}
