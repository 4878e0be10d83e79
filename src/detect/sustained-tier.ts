// Sustained tier: growth that has risen within every quarter of the last two thirds of a cycle (16 h of
// a 24 h cycle). A load cycle cannot do that: any stretch of two thirds of a cycle contains a peak or a
// trough, and the quarter holding it has a flat or falling slope of its own. The overall trend is tested
// on hourly medians; each quarter's slope on its 15-minute buckets.
import { formatDuration, formatPercent, formatRate } from "./format.ts";
import { firstIndexFrom, largestFallBack, type MetricView } from "./metric-view.ts";
import { fitTrend, type TrendFit } from "./stats/trend-fit.ts";
import { hourlyMedians } from "./hourly.ts";
import { percentPerHour, type TierContext } from "./tier-context.ts";

const HOUR = 3_600_000;
/** Share of a cycle the growth must span. */
const CYCLE_SHARE = 2 / 3;
/** Each quarter's own slope must be at least this share of the overall slope. */
const MIN_QUARTER_SHARE = 0.4;

export interface SustainedTierResult {
  readonly confirmed: boolean;
  readonly fit: TrendFit | null;
  readonly spanMs: number;
  readonly reasons: readonly string[];
}

export function evaluateSustainedTier(view: MetricView, ctx: TierContext): SustainedTierResult {
  const spanMs = ctx.config.cycleMs * CYCLE_SHARE;
  const last = view.t[view.t.length - 1] ?? 0;
  const first = view.t[0] ?? last;
  if (view.t.length === 0 || last - first < spanMs - HOUR) {
    return { confirmed: false, fit: null, spanMs, reasons: [] };
  }
  const from = firstIndexFrom(view, last - spanMs);
  const hours = hourlyMedians(view.t.slice(from), view.y.slice(from));
  const n = hours.t.length;
  if (n < 0.8 * (spanMs / HOUR)) return { confirmed: false, fit: null, spanMs, reasons: [] };
  const fit = fitTrend(hours.t, hours.y, 0, n, 0.9);
  const rel = percentPerHour(fit.slopePerHour, fit.median);
  if (
    fit.pGrowth >= ctx.preset.alpha ||
    fit.slopePerHour < ctx.minAbsPerHour ||
    rel < ctx.config.minGrowthPercentPerHour
  ) {
    return { confirmed: false, fit, spanMs, reasons: [] };
  }
  const start = last - spanMs;
  const everyQuarter = [0, 1, 2, 3].every((q) => {
    const qFrom = firstIndexFrom(view, start + (q * spanMs) / 4);
    const qTo = q === 3 ? view.t.length : firstIndexFrom(view, start + ((q + 1) * spanMs) / 4);
    if (qTo - qFrom < 6) return false;
    return fitTrend(view.t, view.y, qFrom, qTo, 0.9).slopePerHour >= MIN_QUARTER_SHARE * fit.slopePerHour;
  });
  const rise = fit.slopePerHour * (spanMs / HOUR);
  if (!everyQuarter || largestFallBack(hours.y, 0, n) > 0.5 * rise) {
    return {
      confirmed: false,
      fit,
      spanMs,
      reasons: [`grew ${formatPercent(rel)}/h over ${formatDuration(spanMs)} but not in every part of it`],
    };
  }
  return {
    confirmed: true,
    fit,
    spanMs,
    reasons: [
      `grew ${formatPercent(rel)}/h (${formatRate(fit.slopePerHour, ctx.kind)}) in every quarter of the last ${formatDuration(spanMs)}: longer than a load cycle can keep climbing`,
    ],
  };
}
