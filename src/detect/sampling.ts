// The error a sampled heap profile adds to the heap figure. Go's heap profile (and most others) records
// an allocation of s bytes with a chance of 1 − e^(−s/period) and counts each recorded one up by the
// inverse, so `inuse_space` is an estimate: for small objects its error is about √(level × period),
// ±1.4 MiB on a 4 MiB heap at Go's default 512 KiB, ±7 MiB on 100 MiB; it wanders as objects are
// replaced. `heapSamplingBytes` is that period, or less when the heap is made of large objects.
import type { TierContext } from "./tier-context.ts";

/**
 * The sampling error is judged at this many standard deviations: it wanders slowly, so a flat heap
 * re-tested at every block shows 2–3σ excursions in many runs (`npm run bench:detect-noise`: at 2σ a
 * quarter of flat 4 MiB runs at demo speed were still called leaks; at 4σ none).
 */
export const SAMPLING_Z = 4;

/**
 * How fast the sampling error alone can make the heap seem to move over a span, bytes per hour. Objects
 * that stay carry the same error in both readings, so only the bytes replaced in between count: two
 * readings a span apart differ by up to √(2 × replaced × period). Replaced bytes are at most the level
 * and at most what the process allocated over the span (`heapAllocBytesPerHour`, when known): a leak
 * that only adds objects is not hidden behind the error of a heap it never touches. Zero for goroutines
 * and when the heap figure is exact (no `heapSamplingBytes`).
 */
export function samplingSlopeNoise(level: number, spanHours: number, ctx: TierContext): number {
  const period = ctx.kind === "heap" ? ctx.config.heapSamplingBytes : undefined;
  if (period === undefined || !(level > 0) || !(spanHours > 0)) return 0;
  const allocated = ctx.config.heapAllocBytesPerHour;
  const replaced = allocated === undefined ? level : Math.min(level, allocated * spanHours);
  return Math.sqrt(2 * replaced * period) / spanHours;
}
