// Order statistics on small arrays (tens to a few hundred values).

/** Median; NaN for an empty input. Does not modify its input. */
export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const copy = Float64Array.from(values);
  const mid = n >> 1;
  const upper = selectKth(copy, mid, 0, n);
  if (n % 2 === 1) return upper;
  // After selection everything left of `mid` is ≤ the median's upper half: take their maximum.
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) lower = Math.max(lower, copy[i] ?? lower);
  return (lower + upper) / 2;
}

/**
 * Rearranges a[from..to) so that a[k] holds the value of rank k, smaller values before it and larger
 * after (Hoare's quickselect with a median-of-three pivot). Returns a[k].
 */
export function selectKth(a: Float64Array, k: number, from: number, to: number): number {
  let lo = from;
  let hi = to - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const x = a[lo] ?? 0;
    const y = a[mid] ?? 0;
    const z = a[hi] ?? 0;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] ?? 0) < pivot) i++;
      while ((a[j] ?? 0) > pivot) j--;
      if (i <= j) {
        const tmp = a[i] ?? 0;
        a[i] = a[j] ?? 0;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k] ?? Number.NaN;
}

/** Median absolute deviation scaled to estimate a normal standard deviation. */
export function robustScale(values: ArrayLike<number>): number {
  const m = median(values);
  const deviations = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) deviations[i] = Math.abs((values[i] ?? m) - m);
  return 1.4826 * median(deviations);
}

function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] ?? 0) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] ?? 0) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Average ranks (1-based), ties sharing the mean of their positions. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const sorted = Float64Array.from(values).sort();
  const ranks = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0;
    ranks[i] = (lowerBound(sorted, v) + upperBound(sorted, v) + 1) / 2;
  }
  return ranks;
}

/** The low quartile of a group (the second lowest of five, the lowest of up to four). */
export function lowQuartile(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length / 4) - 1)] ?? 0;
}

/** The high quartile of a group (the second highest of five, the highest of up to four). */
export function highQuartile(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, sorted.length - Math.ceil(sorted.length / 4))] ?? 0;
}
