// A baseline alert rule: fed samples one by one, says whether it is firing.
import type { Sample } from "../../../src/detect/index.ts";

export interface AlarmRule {
  readonly name: string;
  /** A fresh evaluator for one series; `ceiling` is the heap the container may reach. */
  create(ceiling: number): (sample: Sample) => boolean;
}

/** Ordinary least squares of (t in hours, value) → slope per hour and value at `at`. */
export function leastSquares(
  points: readonly Sample[],
  at: number,
): { slopePerHour: number; valueAt: number } | null {
  const n = points.length;
  if (n < 2) return null;
  const t0 = points[0]?.t ?? 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    const x = (p.t - t0) / 3_600_000;
    sx += x;
    sy += p.heapInuseBytes;
    sxx += x * x;
    sxy += x * p.heapInuseBytes;
  }
  const den = n * sxx - sx * sx;
  if (den === 0) return null;
  const slope = (n * sxy - sx * sy) / den;
  const intercept = (sy - slope * sx) / n;
  return { slopePerHour: slope, valueAt: intercept + slope * ((at - t0) / 3_600_000) };
}

/** Keeps the samples of the last `rangeMs`, restarting with each new container (a new series). */
export class RangeBuffer {
  readonly #rangeMs: number;
  #points: Sample[] = [];
  constructor(rangeMs: number) {
    this.#rangeMs = rangeMs;
  }
  add(sample: Sample): readonly Sample[] {
    if (sample.restart === true) this.#points = [];
    this.#points.push(sample);
    const cutoff = sample.t - this.#rangeMs;
    let k = 0;
    while (k < this.#points.length && (this.#points[k]?.t ?? 0) <= cutoff) k++;
    if (k > 0) this.#points.splice(0, k);
    return this.#points;
  }
}
