// Cycle tier: slower growth, proven over at least one full load cycle. The 15-minute buckets are fitted
// with a trend, 24 h and 12 h harmonics and the single most likely step (Huber-weighted, so bursts
// barely count). The harmonics and the step are then removed, and the remaining trend is tested with
// Theil–Sen / Mann–Kendall (Hamed–Rao) on hourly medians, overall and over the last half cycle (growth
// must persist). With two cycles of history, the trough of the last cycle must sit above the one before.
import { formatDuration, formatPercent, formatRate } from "./format.ts";
import { firstIndexFrom, type MetricView } from "./metric-view.ts";
import { median } from "./stats/order.ts";
import { binnedMedians } from "./hourly.ts";
import { huberRegression } from "./stats/robust-regression.ts";
import { fitTrend, type TrendFit } from "./stats/trend-fit.ts";
import { percentPerHour, type TierContext } from "./tier-context.ts";

const HOUR = 3_600_000;
/** Buckets either side of a candidate step (1 h at the default interval). */
const STEP_WINDOW = 4;
/** Growth over the last half cycle must be at least this share of the overall growth. */
const PERSISTENCE_SHARE = 0.4;

export interface CycleTierResult {
  /** A full cycle of history exists for this metric in this segment. */
  readonly available: boolean;
  readonly confirmed: boolean;
  /** Significant growth after removing the cycle, but a persistence or trough check failed. */
  readonly growing: boolean;
  readonly fit: TrendFit | null;
  readonly spanMs: number;
  readonly reasons: readonly string[];
  /** The fitted load cycle (24 h and 12 h harmonics), when a full cycle has been seen. */
  readonly seasonal: Seasonal | null;
}

/** A fitted cycle: value at t = Σ harmonics of (t − origin). */
export interface Seasonal {
  readonly origin: number;
  readonly cycleMs: number;
  /** sin, cos of the cycle, then sin, cos of its half. */
  readonly coefficients: readonly [number, number, number, number];
}

export function seasonalAt(seasonal: Seasonal, t: number): number {
  const w = (2 * Math.PI) / seasonal.cycleMs;
  const x = w * (t - seasonal.origin);
  const [a, b, c, d] = seasonal.coefficients;
  return a * Math.sin(x) + b * Math.cos(x) + c * Math.sin(2 * x) + d * Math.cos(2 * x);
}

/** The view with the fitted cycle taken out. */
export function deseasonalize(view: MetricView, seasonal: Seasonal | null): MetricView {
  if (seasonal === null) return view;
  return { t: view.t, y: view.y.map((v, i) => v - seasonalAt(seasonal, view.t[i] ?? 0)) };
}

function designRow(hours: number, cycleHours: number, stepAt: number | null): Float64Array {
  const w = (2 * Math.PI) / cycleHours;
  const row = [
    1,
    hours,
    Math.sin(w * hours),
    Math.cos(w * hours),
    Math.sin(2 * w * hours),
    Math.cos(2 * w * hours),
  ];
  if (stepAt !== null) row.push(hours >= stepAt ? 1 : 0);
  return Float64Array.from(row);
}

/** The bucket where the residuals jump up the most: the best place for a one-off step. */
function likelyStep(residuals: Float64Array, hours: Float64Array): number | null {
  let best = 0;
  let at: number | null = null;
  for (let k = STEP_WINDOW; k + STEP_WINDOW <= residuals.length; k++) {
    const jump =
      median(residuals.subarray(k, k + STEP_WINDOW)) - median(residuals.subarray(k - STEP_WINDOW, k));
    if (jump > best) {
      best = jump;
      at = hours[k] ?? null;
    }
  }
  return at;
}

export function evaluateCycleTier(view: MetricView, bucketMs: number, ctx: TierContext): CycleTierResult {
  const { cycleMs } = ctx.config;
  const n = view.t.length;
  const first = view.t[0] ?? 0;
  const last = view.t[n - 1] ?? 0;
  const spanMs = n > 0 ? last - first + bucketMs : 0;
  if (spanMs < cycleMs || n < 24) {
    const toGo = formatDuration(Math.max(0, cycleMs - spanMs));
    return {
      available: false,
      confirmed: false,
      growing: false,
      fit: null,
      spanMs,
      reasons: [`a full ${formatDuration(cycleMs)} cycle is seen in ${toGo}`],
      seasonal: null,
    };
  }
  const cycleHours = cycleMs / HOUR;
  const hours = Float64Array.from(view.t, (t) => (t - first) / HOUR);
  const y = Float64Array.from(view.y);
  const plain = huberRegression(
    Array.from(hours, (h) => designRow(h, cycleHours, null)),
    y,
  );
  if (plain === null) {
    return {
      available: false,
      confirmed: false,
      growing: false,
      fit: null,
      spanMs,
      reasons: ["history too irregular to fit"],
      seasonal: null,
    };
  }
  const stepAt = likelyStep(plain.residuals, hours);
  const stepped =
    stepAt === null
      ? null
      : huberRegression(
          Array.from(hours, (h) => designRow(h, cycleHours, stepAt)),
          y,
        );
  const model = stepped ?? plain;
  const c = model.coefficients;
  const seasonal: Seasonal = {
    origin: first,
    cycleMs,
    coefficients: [c[2] ?? 0, c[3] ?? 0, c[4] ?? 0, c[5] ?? 0],
  };
  // Remove the cycle and the step; keep trend + noise for the robust tests.
  const w = (2 * Math.PI) / cycleHours;
  const deseasoned = Float64Array.from(hours, (h, i) => {
    const cyclic =
      (c[2] ?? 0) * Math.sin(w * h) +
      (c[3] ?? 0) * Math.cos(w * h) +
      (c[4] ?? 0) * Math.sin(2 * w * h) +
      (c[5] ?? 0) * Math.cos(2 * w * h);
    const step = stepped !== null && stepAt !== null && h >= stepAt ? (c[6] ?? 0) : 0;
    return (y[i] ?? 0) - cyclic - step;
  });
  const perHour = binnedMedians(view.t, deseasoned, cycleMs / 24);
  const fit = fitTrend(perHour.t, perHour.y, 0, perHour.t.length, 0.9);
  const recentFrom = firstIndexFrom({ t: perHour.t, y: perHour.y }, last - cycleMs / 2);
  const recent = fitTrend(perHour.t, perHour.y, recentFrom, perHour.t.length, 0.9);
  const lastCycleMedian = median(view.y.slice(firstIndexFrom(view, last - cycleMs)));
  const rel = percentPerHour(fit.slopePerHour, lastCycleMedian);
  const adjusted: TrendFit = { ...fit, median: lastCycleMedian };

  const reasons: string[] = [];
  const significant = fit.pGrowth < ctx.preset.alpha;
  const bigEnough = fit.slopePerHour >= ctx.minAbsPerHour && rel >= ctx.config.minGrowthPercentPerHour;
  if (!significant || !bigEnough) {
    reasons.push(
      significant
        ? `trend ${formatPercent(rel)}/h over ${formatDuration(spanMs)} is below the minimum`
        : `fits a ${formatDuration(cycleMs)} load cycle with no significant trend over ${formatDuration(spanMs)}`,
    );
    return { available: true, confirmed: false, growing: false, fit: adjusted, spanMs, reasons, seasonal };
  }
  reasons.push(
    `grew ${formatPercent(rel)}/h (${formatRate(fit.slopePerHour, ctx.kind)}) over ${formatDuration(spanMs)} beyond the ${formatDuration(cycleMs)} cycle`,
  );
  if (recent.slopePerHour < PERSISTENCE_SHARE * fit.slopePerHour) {
    reasons.push(`growth stopped in the last ${formatDuration(cycleMs / 2)}`);
    return { available: true, confirmed: false, growing: true, fit: adjusted, spanMs, reasons, seasonal };
  }
  if (spanMs >= 2 * cycleMs - bucketMs) {
    const split = firstIndexFrom(view, last - cycleMs);
    const troughBefore = Math.min(
      ...binnedMedians(view.t.slice(0, split), view.y.slice(0, split), cycleMs / 24).y,
    );
    const troughLast = Math.min(...binnedMedians(view.t.slice(split), view.y.slice(split), cycleMs / 24).y);
    const expected = fit.slopePerHour * cycleHours;
    if (troughLast - troughBefore < 0.25 * expected) {
      reasons.push("the last cycle's trough is not above the one before");
      return { available: true, confirmed: false, growing: true, fit: adjusted, spanMs, reasons, seasonal };
    }
    reasons.push(
      `trough rose ${formatPercent((100 * (troughLast - troughBefore)) / troughBefore)} in one cycle`,
    );
  }
  return { available: true, confirmed: true, growing: true, fit: adjusted, spanMs, reasons, seasonal };
}
