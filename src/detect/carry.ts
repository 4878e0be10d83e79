// Evidence that survives a restart: a segment that grew and ended in an OOM kill, or that was
// Leaking, makes the same growth in the next segment a leak recognised faster, not a fresh start.
import { formatDuration, formatPercent } from "./format.ts";
import type { MetricView } from "./metric-view.ts";
import type { CarriedEvidence, MetricMemory } from "./series-state.ts";
import { median } from "./stats/order.ts";
import { fitTrend, type TrendFit } from "./stats/trend-fit.ts";
import { percentPerHour, type TierContext } from "./tier-context.ts";
import type { Tier } from "./types.ts";

/** One-sided p below which a whole segment counts as having grown. */
const SEGMENT_GROWTH_P = 0.01;

/** Summarises the segment that just ended, from its buckets (or blocks when it was short). */
export function summarizeSegment(
  buckets: MetricView,
  blocks: MetricView,
  memory: MetricMemory,
  endedAt: number,
  cause: CarriedEvidence["cause"],
  ctx: TierContext,
): CarriedEvidence {
  const view = buckets.t.length >= ctx.timing.minBlocks ? buckets : blocks;
  const n = view.t.length;
  let grew = false;
  let percent: number | null = null;
  let spanMs = 0;
  if (n >= ctx.timing.minBlocks) {
    const fit = fitTrend(view.t, view.y, 0, n, 0.9);
    percent = percentPerHour(fit.slopePerHour, fit.median);
    spanMs = fit.spanMs;
    grew =
      fit.pGrowth < SEGMENT_GROWTH_P &&
      fit.slopePerHour >= ctx.minAbsPerHour &&
      percent >= ctx.config.minGrowthPercentPerHour;
  }
  const growingForMs = memory.growingSince !== null ? endedAt - memory.growingSince : grew ? spanMs : 0;
  return {
    endedAt,
    cause,
    wasLeaking: memory.verdict === "Leaking",
    grew,
    percentPerHour: percent,
    judged: n >= ctx.timing.minBlocks,
    level: blocks.y.length > 0 ? median(blocks.y) : null,
    growingForMs,
  };
}

/** Carried evidence strong enough to shorten the next segment's proof. */
export function carriesSuspicion(carried: CarriedEvidence | null): carried is CarriedEvidence {
  return carried !== null && (carried.wasLeaking || (carried.cause === "oom" && carried.grew));
}

export interface ResumedResult {
  readonly confirmed: boolean;
  readonly tier: Tier;
  readonly fit: TrendFit | null;
  readonly reasons: readonly string[];
}

export function describeCarried(carried: CarriedEvidence): string {
  const rate = carried.percentPerHour === null ? "" : ` at ${formatPercent(carried.percentPerHour)}/h`;
  if (carried.cause === "oom") return `previous run grew${rate} until it was OOM-killed`;
  const what = carried.cause === "drop" ? "the heap dropped by more than half" : "the restart";
  return `was ${carried.wasLeaking ? "Leaking" : "growing"}${rate} before ${what} (${formatDuration(carried.growingForMs)} of growth)`;
}

/** Does the new segment repeat the carried growth? Weaker proof suffices: the pattern is known. */
export function evaluateResumed(view: MetricView, carried: CarriedEvidence, ctx: TierContext): ResumedResult {
  const tier: Tier = carried.cause === "oom" ? "oom-loop" : "restart";
  const n = view.t.length;
  const context = describeCarried(carried);
  if (n < ctx.timing.minBlocks)
    return { confirmed: false, tier, fit: null, reasons: [context, "watching whether growth resumes"] };
  const fit = fitTrend(view.t, view.y, 0, n, 0.9);
  const rel = percentPerHour(fit.slopePerHour, fit.median);
  const needed = Math.max(ctx.config.minGrowthPercentPerHour, 0.5 * (carried.percentPerHour ?? 0));
  const confirmed =
    fit.pGrowth < ctx.preset.alpha &&
    fit.slopePerHour >= ctx.minAbsPerHour &&
    rel >= needed &&
    fit.tau >= 0.3;
  return {
    confirmed,
    tier,
    fit,
    reasons: confirmed
      ? [context, `growing again at ${formatPercent(rel)}/h since the restart`]
      : [context, `no matching growth since (${formatPercent(rel)}/h, needs ${formatPercent(needed)}/h)`],
  };
}
