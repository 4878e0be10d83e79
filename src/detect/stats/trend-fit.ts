// Theil–Sen slope with Sen's confidence interval, and the Mann–Kendall trend test with the
// Hamed–Rao (1998) correction for autocorrelation: memory series are autocorrelated, and the plain
// test then over-fires. Both come from the same pairwise pass.
import { normalQuantile, normalUpperTail } from "./normal.ts";
import { averageRanks, median, selectKth } from "./order.ts";

const HOUR = 3_600_000;

export interface TrendFit {
  readonly n: number;
  readonly spanMs: number;
  /** Theil–Sen slope, units per hour. */
  readonly slopePerHour: number;
  /** Sen's confidence interval for the slope (two-sided, at the level asked for). */
  readonly slopeLowPerHour: number;
  readonly slopeHighPerHour: number;
  /** Median of the values: the denominator of relative growth. */
  readonly median: number;
  /** Fitted level at the last point. */
  readonly level: number;
  /** Mann–Kendall S and Kendall's tau (S over the number of pairs). */
  readonly s: number;
  readonly tau: number;
  /** Variance inflation n/n* from autocorrelation of the detrended ranks (≥ 1). */
  readonly autocorrelationFactor: number;
  readonly z: number;
  /** One-sided p-value for an upward trend. */
  readonly pGrowth: number;
}

/**
 * Fits points (t ascending, strictly increasing) from index `from` (inclusive) to `to` (exclusive).
 * `confidence` is the two-sided level of the slope interval, e.g. 0.9.
 */
export function fitTrend(
  t: readonly number[],
  y: readonly number[],
  from: number,
  to: number,
  confidence: number,
): TrendFit {
  const n = to - from;
  const x = new Float64Array(n);
  const v = new Float64Array(n);
  const t0 = t[from] ?? 0;
  for (let i = 0; i < n; i++) {
    x[i] = ((t[from + i] ?? t0) - t0) / HOUR;
    v[i] = y[from + i] ?? 0;
  }
  const pairs = (n * (n - 1)) / 2;
  const slopes = new Float64Array(pairs);
  let s = 0;
  let k = 0;
  for (let i = 0; i < n - 1; i++) {
    const xi = x[i] ?? 0;
    const vi = v[i] ?? 0;
    for (let j = i + 1; j < n; j++) {
      const dv = (v[j] ?? 0) - vi;
      slopes[k++] = dv / ((x[j] ?? 0) - xi);
      s += dv > 0 ? 1 : dv < 0 ? -1 : 0;
    }
  }
  // Order statistics by selection, not a full sort: median first, then the interval ends either side.
  const mid = pairs >> 1;
  const upperMid = pairs > 0 ? selectKth(slopes, mid, 0, pairs) : 0;
  let lowerMid = upperMid;
  if (pairs > 0 && pairs % 2 === 0) {
    lowerMid = -Infinity;
    for (let i = 0; i < mid; i++) lowerMid = Math.max(lowerMid, slopes[i] ?? lowerMid);
  }
  const slope = n >= 2 ? (lowerMid + upperMid) / 2 : 0;

  const residuals = new Float64Array(n);
  for (let i = 0; i < n; i++) residuals[i] = (v[i] ?? 0) - slope * (x[i] ?? 0);
  const intercept = median(residuals);

  const varS = tieCorrectedVariance(v);
  const factor = n >= 4 ? hamedRaoFactor(residuals) : 1;
  const varStar = varS * factor;
  const sd = Math.sqrt(varStar);
  const z = sd > 0 ? (s > 0 ? (s - 1) / sd : s < 0 ? (s + 1) / sd : 0) : 0;

  // Sen's interval: order statistics of the pairwise slopes around the median.
  const c = normalQuantile(0.5 + confidence / 2) * sd;
  const lowIndex = Math.max(0, Math.min(pairs - 1, Math.floor((pairs - c) / 2) - 1));
  const highIndex = Math.max(0, Math.min(pairs - 1, Math.ceil((pairs + c) / 2)));

  return {
    n,
    spanMs: n > 0 ? (t[to - 1] ?? t0) - t0 : 0,
    slopePerHour: slope,
    slopeLowPerHour: pairs > 0 ? (lowIndex < mid ? selectKth(slopes, lowIndex, 0, mid) : upperMid) : slope,
    slopeHighPerHour:
      pairs > 0 ? (highIndex > mid ? selectKth(slopes, highIndex, mid + 1, pairs) : upperMid) : slope,
    median: median(v),
    level: intercept + slope * (x[n - 1] ?? 0),
    s,
    tau: pairs > 0 ? s / pairs : 0,
    autocorrelationFactor: factor,
    z,
    pGrowth: normalUpperTail(z),
  };
}

/**
 * The Mann–Kendall test alone, without autocorrelation correction: cheap, and never less eager than
 * the corrected test (the correction only inflates the variance). Used to skip hopeless fits.
 */
export function quickGrowthP(y: readonly number[], from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to - 1; i++) {
    const yi = y[i] ?? 0;
    for (let j = i + 1; j < to; j++) {
      const d = (y[j] ?? 0) - yi;
      s += d > 0 ? 1 : d < 0 ? -1 : 0;
    }
  }
  const variance = tieCorrectedVariance(Float64Array.from(y.slice(from, to)));
  if (variance <= 0 || s <= 0) return 1;
  return normalUpperTail((s - 1) / Math.sqrt(variance));
}

/** Var(S) under no trend, corrected for tied values. */
function tieCorrectedVariance(values: Float64Array): number {
  const n = values.length;
  let variance = n * (n - 1) * (2 * n + 5);
  const sorted = Float64Array.from(values).sort();
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && sorted[j] === sorted[i]) j++;
    const tie = j - i;
    if (tie > 1) variance -= tie * (tie - 1) * (2 * tie + 5);
    i = j;
  }
  return variance / 18;
}

/**
 * Hamed & Rao (1998): n/n* = 1 + 2/(n(n−1)(n−2)) · Σ (n−k)(n−k−1)(n−k−2) ρ_k over the lags whose rank
 * autocorrelation of the detrended series is significant. Floored at 1: negative autocorrelation never
 * makes the test more eager.
 */
function hamedRaoFactor(detrended: Float64Array): number {
  const n = detrended.length;
  const ranks = averageRanks(detrended);
  const mean = (n + 1) / 2;
  let denominator = 0;
  for (let i = 0; i < n; i++) denominator += ((ranks[i] ?? mean) - mean) ** 2;
  if (denominator === 0) return 1;
  const bound = 1.96 / Math.sqrt(n);
  let sum = 0;
  for (let lag = 1; lag <= n - 3; lag++) {
    let numerator = 0;
    for (let i = 0; i + lag < n; i++)
      numerator += ((ranks[i] ?? mean) - mean) * ((ranks[i + lag] ?? mean) - mean);
    const rho = numerator / denominator;
    if (Math.abs(rho) > bound) sum += (n - lag) * (n - lag - 1) * (n - lag - 2) * rho;
  }
  return Math.max(1, 1 + (2 * sum) / (n * (n - 1) * (n - 2)));
}
