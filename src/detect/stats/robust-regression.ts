// Linear regression with Huber weights (iteratively reweighted least squares): bursts and spikes
// in the 15-minute buckets get down-weighted instead of bending the fit. Small designs only (≤ 8 columns).
import { robustScale } from "./order.ts";

export interface RegressionFit {
  readonly coefficients: Float64Array;
  /** Standard errors, already inflated for lag-1 autocorrelation of the residuals. */
  readonly standardErrors: Float64Array;
  readonly residuals: Float64Array;
  /** Robust residual scale (MAD-based). */
  readonly scale: number;
}

/** Solves A·x = b for a small symmetric positive system, or returns null if it is singular. */
function invert(matrix: Float64Array, p: number): Float64Array | null {
  const a = Float64Array.from(matrix);
  const inv = new Float64Array(p * p);
  for (let i = 0; i < p; i++) inv[i * p + i] = 1;
  for (let col = 0; col < p; col++) {
    let pivot = col;
    for (let r = col + 1; r < p; r++)
      if (Math.abs(a[r * p + col] ?? 0) > Math.abs(a[pivot * p + col] ?? 0)) pivot = r;
    const pv = a[pivot * p + col] ?? 0;
    if (Math.abs(pv) < 1e-12) return null;
    if (pivot !== col) {
      for (let c = 0; c < p; c++) {
        swap(a, col * p + c, pivot * p + c);
        swap(inv, col * p + c, pivot * p + c);
      }
    }
    for (let c = 0; c < p; c++) {
      a[col * p + c] = (a[col * p + c] ?? 0) / pv;
      inv[col * p + c] = (inv[col * p + c] ?? 0) / pv;
    }
    for (let r = 0; r < p; r++) {
      if (r === col) continue;
      const f = a[r * p + col] ?? 0;
      if (f === 0) continue;
      for (let c = 0; c < p; c++) {
        a[r * p + c] = (a[r * p + c] ?? 0) - f * (a[col * p + c] ?? 0);
        inv[r * p + c] = (inv[r * p + c] ?? 0) - f * (inv[col * p + c] ?? 0);
      }
    }
  }
  return inv;
}

function swap(a: Float64Array, i: number, j: number): void {
  const tmp = a[i] ?? 0;
  a[i] = a[j] ?? 0;
  a[j] = tmp;
}

/** `rows[i]` is the design row of observation i (all the same length p). */
export function huberRegression(
  rows: readonly Float64Array[],
  y: Float64Array,
  iterations = 4,
): RegressionFit | null {
  const n = rows.length;
  const p = rows[0]?.length ?? 0;
  if (n <= p + 2) return null;
  const weights = new Float64Array(n).fill(1);
  let coefficients = new Float64Array(p);
  let inverse: Float64Array | null = null;
  const residuals = new Float64Array(n);
  let scale = 0;
  for (let iter = 0; iter <= iterations; iter++) {
    const xtx = new Float64Array(p * p);
    const xty = new Float64Array(p);
    for (let i = 0; i < n; i++) {
      const row = rows[i] ?? new Float64Array(p);
      const w = weights[i] ?? 0;
      for (let a = 0; a < p; a++) {
        const wa = w * (row[a] ?? 0);
        xty[a] = (xty[a] ?? 0) + wa * (y[i] ?? 0);
        for (let b = a; b < p; b++) xtx[a * p + b] = (xtx[a * p + b] ?? 0) + wa * (row[b] ?? 0);
      }
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) xtx[a * p + b] = xtx[b * p + a] ?? 0;
    inverse = invert(xtx, p);
    if (inverse === null) return null;
    const next = new Float64Array(p);
    for (let a = 0; a < p; a++) {
      let sum = 0;
      for (let b = 0; b < p; b++) sum += (inverse[a * p + b] ?? 0) * (xty[b] ?? 0);
      next[a] = sum;
    }
    coefficients = next;
    for (let i = 0; i < n; i++) {
      const row = rows[i] ?? new Float64Array(p);
      let fitted = 0;
      for (let a = 0; a < p; a++) fitted += (row[a] ?? 0) * (coefficients[a] ?? 0);
      residuals[i] = (y[i] ?? 0) - fitted;
    }
    scale = robustScale(residuals);
    if (scale === 0) break;
    const k = 1.345 * scale;
    for (let i = 0; i < n; i++) {
      const r = Math.abs(residuals[i] ?? 0);
      weights[i] = r <= k ? 1 : k / r;
    }
  }
  if (inverse === null) return null;
  const inflation = autocorrelationInflation(residuals);
  const standardErrors = new Float64Array(p);
  for (let a = 0; a < p; a++)
    standardErrors[a] = scale * Math.sqrt(Math.max(0, inverse[a * p + a] ?? 0) * inflation);
  return { coefficients, standardErrors, residuals, scale };
}

/** (1+ρ)/(1−ρ) for the lag-1 autocorrelation ρ of the residuals, ρ clamped to [0, 0.95]. */
function autocorrelationInflation(residuals: Float64Array): number {
  const n = residuals.length;
  let mean = 0;
  for (const r of residuals) mean += r;
  mean /= n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const d = (residuals[i] ?? 0) - mean;
    den += d * d;
    if (i + 1 < n) num += d * ((residuals[i + 1] ?? 0) - mean);
  }
  const rho = den > 0 ? Math.min(0.95, Math.max(0, num / den)) : 0;
  return (1 + rho) / (1 - rho);
}
