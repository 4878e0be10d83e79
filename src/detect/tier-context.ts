// What every tier needs to know about the metric it judges.
import type { DetectorConfig, SensitivityPreset } from "./config.ts";
import type { MetricKind } from "./metric-view.ts";
import type { Timing } from "./timing.ts";

export interface TierContext {
  readonly config: DetectorConfig;
  readonly preset: SensitivityPreset;
  readonly kind: MetricKind;
  /** minGrowthBytesPerHour for the heap, minGoroutineGrowthPerHour for goroutines. */
  readonly minAbsPerHour: number;
  readonly blockMs: number;
  readonly timing: Timing;
}

/** Growth as a percentage per hour of a reference level (the median over the fitted points, unless said). */
export function percentPerHour(slopePerHour: number, median: number): number {
  return median > 0 ? (100 * slopePerHour) / median : 0;
}
