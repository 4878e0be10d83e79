// The detector's point arrays: blocks, buckets and the open block share one shape.

/** Parallel arrays; `goroutines` holds null where a sample had no goroutine count. */
export interface PointSeries {
  t: number[];
  heap: number[];
  goroutines: (number | null)[];
}

export function emptyPoints(): PointSeries {
  return { t: [], heap: [], goroutines: [] };
}
