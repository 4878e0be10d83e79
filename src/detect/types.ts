// The detector's vocabulary: what goes in (samples) and what comes out (assessments).

/** One scrape of one container. */
export interface Sample {
  /** Unix time in milliseconds. */
  readonly t: number;
  /** In-use heap bytes (Go: HeapInuse, or the heap profile's inuse_space). */
  readonly heapInuseBytes: number;
  readonly goroutines?: number;
  /** First sample after a container restart (restart count or start time changed). */
  readonly restart?: boolean;
  /** That restart was an OOM kill. */
  readonly oomKilled?: boolean;
}

/**
 * `Collecting`: not enough data yet. `Healthy`: no steady growth. `Suspected`: growth seen but not
 * yet proven (information, never an alarm). `Leaking`: steady growth proven — the alarm.
 */
export type Verdict = "Collecting" | "Healthy" | "Suspected" | "Leaking";

/**
 * Which rule called it. `fast`: growth faster than a daily load cycle can produce, held long enough
 * to rule out a ramp that falls back. `sustained`: slower growth that rose in every quarter of two
 * thirds of a load cycle, which a cycle cannot do. `cycle`: slower growth, proven trough to trough over a full
 * load cycle. `oom-loop`: growth that already ended in an OOM kill came back. `restart`: growth that
 * was Leaking before a restart came back at the same rate.
 */
export type Tier = "fast" | "sustained" | "cycle" | "oom-loop" | "restart";

export interface MetricAssessment {
  readonly verdict: Verdict;
  /** Set when the verdict is Leaking. */
  readonly tier: Tier | null;
  /** Robust (Theil–Sen) slope in units per hour: bytes for the heap, goroutines for goroutines. */
  readonly slopePerHour: number | null;
  /** The slope as a percentage per hour of the median over the evidence window. */
  readonly slopePercentPerHour: number | null;
  /** Strength of the growth evidence, 0..1: one minus the one-sided p-value of the deciding trend test. */
  readonly confidence: number;
  /** How long the current growth has been going on (0 when not growing). */
  readonly growingForMs: number;
  /** Time until the fitted level reaches the heap ceiling at this slope (heap only; null if unknown). */
  readonly timeToCeilingMs: number | null;
  /** Fitted current level (bytes or goroutines), or null while collecting. */
  readonly level: number | null;
  /** Short sentences for the on-call engineer: why this verdict and not the next one. */
  readonly reasons: readonly string[];
}

export interface Assessment {
  /** Time of the sample this assessment was made after. */
  readonly t: number;
  readonly heap: MetricAssessment;
  readonly goroutines: MetricAssessment;
}
