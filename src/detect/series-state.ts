// The per-container state the controller persists (ConfigMap) and restores after an operator
// restart. Plain JSON data, bounded: raw samples only for the open block, three-interval block
// medians for the window, and 15-minute bucket medians (downsampled) for two load cycles. In memory
// the buckets are packed (packed-points.ts); persisted, they are the same JSON arrays as always.
import { InvalidSeriesStateError } from "./errors.ts";
import { packPoints, unpackPoints, type PackedPoints } from "./packed-points.ts";
import { emptyPoints, type PointSeries } from "./points.ts";
import type { Assessment, Tier, Verdict } from "./types.ts";

/** What the detector remembers of its last verdict on one metric. */
export interface MetricMemory {
  verdict: Verdict;
  tier: Tier | null;
  /** When the current run of growth evidence began (null when not growing). */
  growingSince: number | null;
}

/** Evidence carried across a restart or a drop of more than half. */
export interface CarriedEvidence {
  endedAt: number;
  cause: "restart" | "oom" | "drop";
  /** The ended segment's last verdict was Leaking. */
  wasLeaking: boolean;
  /** The ended segment grew steadily over its whole length. */
  grew: boolean;
  /** Its growth rate, percent per hour of its median. */
  percentPerHour: number | null;
  /** The segment was long enough to judge its trend. */
  judged?: boolean;
  /** The level it settled at: the median of its last window (null when it had none). */
  level?: number | null;
  growingForMs: number;
}

/**
 * The bucket being filled, in at most a few dozen numbers however long a bucket is: for the heap, the
 * open group of up to five block medians and a remedian (rows of at most five values per level) of
 * each closed group's low quartile; for goroutines, a remedian of the block medians.
 */
export interface BucketAccumulator {
  index: number;
  tSum: number;
  n: number;
  heapGroup: number[];
  heap: number[][];
  goroutines: number[][];
}

export interface SeriesState {
  version: 1;
  lastT: number | null;
  /** Start of the current segment (container start, restart, or drop). */
  segmentStart: number | null;
  /** Raw samples of the block being filled. */
  open: PointSeries;
  /** Closed blocks (medians of three sample intervals) after warm-up, within the window. */
  blocks: PointSeries;
  /**
   * Closed buckets (1/96 of a cycle each) after warm-up, within two cycles: for the heap, the lower
   * envelope of their blocks (see ingest.ts); for goroutines, the median. Packed: read them with
   * unpackPoints.
   */
  buckets: PackedPoints;
  /** The bucket being filled. */
  bucketAcc: BucketAccumulator | null;
  /** A sample below half the recent level, held until the next sample says glitch or drop. */
  low: { t: number; heap: number; goroutines: number | null } | null;
  heap: MetricMemory;
  goroutines: MetricMemory;
  carriedHeap: CarriedEvidence | null;
  carriedGoroutines: CarriedEvidence | null;
  /** Consecutive segments that grew and ended in an OOM kill. */
  oomGrowthStreak: number;
  /**
   * Of those, how many did not prove growth by their trend (too short or too noisy) and counted
   * because they ended at least 20% above where they started.
   */
  oomShortRuns: number;
  /** First and latest heap sample of the current segment (for segments too short to judge). */
  segmentFirstHeap: number | null;
  lastHeap: number | null;
  last: Assessment | null;
}

function idleMemory(): MetricMemory {
  return { verdict: "Collecting", tier: null, growingSince: null };
}

export function createSeriesState(): SeriesState {
  return {
    version: 1,
    lastT: null,
    segmentStart: null,
    open: emptyPoints(),
    blocks: emptyPoints(),
    buckets: packPoints(emptyPoints()),
    bucketAcc: null,
    low: null,
    heap: idleMemory(),
    goroutines: idleMemory(),
    carriedHeap: null,
    carriedGoroutines: null,
    oomGrowthStreak: 0,
    oomShortRuns: 0,
    segmentFirstHeap: null,
    lastHeap: null,
    last: null,
  };
}

/** A deep copy through JSON: what the controller stores is exactly what it gets back. */
export function serializeSeriesState(state: SeriesState): string {
  return JSON.stringify({ ...state, buckets: unpackPoints(state.buckets) });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPoints(value: unknown): value is PointSeries {
  if (!isRecord(value)) return false;
  const { t, heap, goroutines } = value;
  return (
    Array.isArray(t) &&
    Array.isArray(heap) &&
    Array.isArray(goroutines) &&
    t.length === heap.length &&
    t.length === goroutines.length &&
    t.every((x) => typeof x === "number") &&
    heap.every((x) => typeof x === "number") &&
    goroutines.every((x) => x === null || typeof x === "number")
  );
}

function isRows(value: unknown): value is number[][] {
  return (
    Array.isArray(value) &&
    value.every((row) => Array.isArray(row) && row.every((x) => typeof x === "number"))
  );
}

function isAccumulator(value: unknown): value is BucketAccumulator {
  return (
    isRecord(value) &&
    typeof value.index === "number" &&
    typeof value.tSum === "number" &&
    typeof value.n === "number" &&
    Array.isArray(value.heapGroup) &&
    value.heapGroup.every((x) => typeof x === "number") &&
    isRows(value.heap) &&
    isRows(value.goroutines)
  );
}

/** Restores persisted state, checking its shape; throws InvalidSeriesStateError otherwise. */
export function restoreSeriesState(json: string): SeriesState {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new InvalidSeriesStateError("series state is not JSON", { cause: err });
  }
  if (!isRecord(value) || value.version !== 1) {
    throw new InvalidSeriesStateError("series state has an unknown version");
  }
  for (const key of ["open", "blocks", "buckets"] as const) {
    if (!isPoints(value[key])) throw new InvalidSeriesStateError(`series state field ${key} is malformed`);
  }
  for (const key of ["heap", "goroutines"] as const) {
    const memory = value[key];
    if (!isRecord(memory) || typeof memory.verdict !== "string") {
      throw new InvalidSeriesStateError(`series state field ${key} is malformed`);
    }
  }
  const acc = value.bucketAcc;
  if (acc !== undefined && acc !== null && !isAccumulator(acc)) {
    throw new InvalidSeriesStateError("series state field bucketAcc is malformed");
  }
  // The remaining fields are scalars or nullable records written by this module. State written before
  // the bucket accumulator and the OOM-run fields existed restores with empty ones.
  const restored = value as unknown as Partial<SeriesState>;
  return {
    ...(value as unknown as SeriesState),
    buckets: packPoints(value.buckets as PointSeries),
    bucketAcc: acc === undefined ? null : acc,
    oomShortRuns: restored.oomShortRuns ?? 0,
    segmentFirstHeap: restored.segmentFirstHeap ?? null,
    lastHeap: restored.lastHeap ?? null,
  };
}
