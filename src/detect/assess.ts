// Combines the tiers into one verdict per metric, with its numbers and reasons.
import { carriesSuspicion, describeCarried, evaluateResumed } from "./carry.ts";
import type { CycleTierResult } from "./cycle-tier.ts";
import type { SustainedTierResult } from "./sustained-tier.ts";
import { evaluateFastTier } from "./fast-tier.ts";
import { formatDuration, formatPercent } from "./format.ts";
import type { MetricView } from "./metric-view.ts";
import type { CarriedEvidence, MetricMemory } from "./series-state.ts";
import type { TrendFit } from "./stats/trend-fit.ts";
import { percentPerHour, type TierContext } from "./tier-context.ts";
import type { MetricAssessment, Tier, Verdict } from "./types.ts";

const HOUR = 3_600_000;

export interface MetricInputs {
  readonly view: MetricView;
  /** The segment's 15-minute buckets (history beyond the window). */
  readonly buckets: MetricView;
  /** Lazily computed: the cycle tier only changes when a bucket closes. */
  readonly cycle: () => CycleTierResult;
  readonly sustained: () => SustainedTierResult;
  readonly memory: MetricMemory;
  readonly carried: CarriedEvidence | null;
  /** Heap only: consecutive segments that grew and ended in an OOM kill. */
  readonly oomGrowthStreak: number;
  /** Heap only: enough OOM kills in a row, each after growth, to call an OOM loop. */
  readonly oomLoop: boolean;
  readonly now: number;
  readonly warmupEndsAt: number;
  readonly ceiling: number | null;
  /** False when no sample of this metric has been seen in the segment (goroutines are optional). */
  readonly hasData: boolean;
}

interface Decision {
  readonly verdict: Verdict;
  readonly tier: Tier | null;
  readonly fit: TrendFit | null;
  readonly growingForMs: number;
  readonly reasons: readonly string[];
}

function finish(
  decision: Decision,
  inputs: MetricInputs,
): { assessment: MetricAssessment; memory: MetricMemory } {
  const { fit } = decision;
  const growing = decision.verdict === "Suspected" || decision.verdict === "Leaking";
  const growingSince = growing ? (inputs.memory.growingSince ?? inputs.now - decision.growingForMs) : null;
  const slope = fit?.slopePerHour ?? null;
  const level = fit?.level ?? null;
  const timeToCeilingMs =
    inputs.ceiling !== null && slope !== null && slope > 0 && level !== null && growing
      ? Math.max(0, ((inputs.ceiling - level) / slope) * HOUR)
      : null;
  return {
    assessment: {
      verdict: decision.verdict,
      tier: decision.verdict === "Leaking" ? decision.tier : null,
      slopePerHour: slope,
      slopePercentPerHour: fit === null ? null : percentPerHour(fit.slopePerHour, fit.median),
      confidence: fit === null ? 0 : 1 - fit.pGrowth,
      growingForMs: growingSince === null ? 0 : inputs.now - growingSince,
      timeToCeilingMs,
      level,
      // A copy at its exact size: the last assessment is held between samples, and reasons built
      // with push() or spread carry spare capacity.
      reasons: decision.reasons.slice(),
    },
    memory: { verdict: decision.verdict, tier: decision.tier, growingSince },
  };
}

function decide(inputs: MetricInputs, ctx: TierContext): Decision {
  const { view, carried, memory } = inputs;
  const oomLoop = ctx.kind === "heap" && inputs.oomLoop;
  const suspicion = carriesSuspicion(carried) ? carried : null;

  if (!inputs.hasData) {
    return {
      verdict: "Collecting",
      tier: null,
      fit: null,
      growingForMs: 0,
      reasons: [`no ${ctx.kind} values in the samples`],
    };
  }
  if (view.t.length < ctx.timing.minBlocks) {
    const reasons: string[] = [];
    if (oomLoop) reasons.push(`OOM-killed ${inputs.oomGrowthStreak} times in a row, each after growth`);
    else if (suspicion !== null) reasons.push(describeCarried(suspicion));
    reasons.push(
      inputs.now < inputs.warmupEndsAt
        ? `warming up after start (${formatDuration(inputs.warmupEndsAt - inputs.now)} left)`
        : `collecting: ${formatDuration(view.t.length * ctx.blockMs)} of ${formatDuration(ctx.timing.minBlocks * ctx.blockMs)} needed`,
    );
    if (oomLoop) return { verdict: "Leaking", tier: "oom-loop", fit: null, growingForMs: 0, reasons };
    if (suspicion !== null) return { verdict: "Suspected", tier: null, fit: null, growingForMs: 0, reasons };
    return { verdict: "Collecting", tier: null, fit: null, growingForMs: 0, reasons };
  }

  // After a restart that ended a healthy run, climbing back to that run's level is a warm-up.
  const previousLevel = carried !== null && suspicion === null ? (carried.level ?? null) : null;
  const fast = evaluateFastTier(
    view,
    inputs.buckets,
    inputs.warmupEndsAt - ctx.config.warmupMs,
    previousLevel,
    ctx,
  );
  if (fast.confirmed)
    return {
      verdict: "Leaking",
      tier: "fast",
      fit: fast.fit,
      growingForMs: fast.growingForMs,
      reasons: fast.reasons,
    };
  const sustained = inputs.sustained();
  if (sustained.confirmed && sustained.fit !== null) {
    return {
      verdict: "Leaking",
      tier: "sustained",
      fit: sustained.fit,
      growingForMs: sustained.spanMs,
      reasons: sustained.reasons,
    };
  }
  const cycle = inputs.cycle();
  if (cycle.confirmed && cycle.fit !== null) {
    return {
      verdict: "Leaking",
      tier: "cycle",
      fit: cycle.fit,
      growingForMs: cycle.spanMs,
      reasons: cycle.reasons,
    };
  }
  if (suspicion !== null) {
    const resumed = evaluateResumed(view, suspicion, ctx);
    if (resumed.confirmed) {
      return {
        verdict: "Leaking",
        tier: resumed.tier,
        fit: resumed.fit,
        growingForMs: fast.windowFit.spanMs,
        reasons: resumed.reasons,
      };
    }
    if (oomLoop) {
      return {
        verdict: "Leaking",
        tier: "oom-loop",
        fit: fast.windowFit,
        growingForMs: 0,
        reasons: [
          `OOM-killed ${inputs.oomGrowthStreak} times in a row, each after growth`,
          ...resumed.reasons.slice(1),
        ],
      };
    }
  }

  const windowFit = fast.windowFit;
  const rel = percentPerHour(windowFit.slopePerHour, windowFit.median);
  const windowGrowing =
    windowFit.pGrowth < ctx.preset.alpha &&
    windowFit.slopePerHour >= ctx.minAbsPerHour &&
    rel >= ctx.config.minGrowthPercentPerHour;
  if (
    memory.verdict === "Leaking" &&
    memory.tier !== null &&
    windowFit.pGrowth < 0.05 &&
    rel >= ctx.config.minGrowthPercentPerHour
  ) {
    // Hysteresis: a called leak stays called while the window still grows.
    return {
      verdict: "Leaking",
      tier: memory.tier,
      fit: windowFit,
      growingForMs: windowFit.spanMs,
      reasons: [
        `still growing ${formatPercent(rel)}/h over ${formatDuration(windowFit.spanMs + ctx.blockMs)}`,
      ],
    };
  }
  if (fast.growing)
    return {
      verdict: "Suspected",
      tier: null,
      fit: fast.fit,
      growingForMs: fast.growingForMs,
      reasons: fast.reasons,
    };
  if (cycle.growing)
    return {
      verdict: "Suspected",
      tier: null,
      fit: cycle.fit,
      growingForMs: cycle.spanMs,
      reasons: cycle.reasons,
    };
  if (suspicion !== null) {
    return {
      verdict: "Suspected",
      tier: null,
      fit: windowFit,
      growingForMs: 0,
      reasons: [describeCarried(suspicion), "no matching growth since the restart yet"],
    };
  }
  if (windowGrowing && !cycle.available) {
    return {
      verdict: "Suspected",
      tier: null,
      fit: windowFit,
      growingForMs: windowFit.spanMs + ctx.blockMs,
      reasons: [...fast.reasons, `slow growth can be a daily load cycle: ${cycle.reasons.join("; ")}`],
    };
  }
  const reasons = cycle.available ? [...cycle.reasons] : [...fast.reasons];
  return {
    verdict: "Healthy",
    tier: null,
    fit: cycle.available ? cycle.fit : windowFit,
    growingForMs: 0,
    reasons,
  };
}

export function assessMetric(
  inputs: MetricInputs,
  ctx: TierContext,
): { assessment: MetricAssessment; memory: MetricMemory } {
  return finish(decide(inputs, ctx), inputs);
}
