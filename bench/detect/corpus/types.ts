// A labelled series: samples as the controller would feed them, plus the ground truth.
import type { Sample } from "../../../src/detect/index.ts";

export interface HeapLeakTruth {
  /** When the leak began (unix ms). Alarms before this are false alarms. */
  readonly onsetMs: number;
  /** Leak rate as a percentage of the baseline heap per hour. */
  readonly ratePercentPerHour: number;
}

export interface GoroutineLeakTruth {
  readonly onsetMs: number;
  readonly ratePerHour: number;
}

export interface LabelledSeries {
  readonly id: string;
  readonly scenario: string;
  /** "synthetic" series come from the seeded generator; "recorded" from examples/leaky-app. */
  readonly origin: "synthetic" | "recorded";
  readonly samples: readonly Sample[];
  /** The in-use heap at which the container would hit its memory limit. */
  readonly heapCeilingBytes: number;
  readonly heapLeak: HeapLeakTruth | null;
  readonly goroutineLeak: GoroutineLeakTruth | null;
}
