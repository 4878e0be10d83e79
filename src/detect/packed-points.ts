// The closed buckets as the state holds them between samples: two load cycles of points in one typed
// array instead of three JS arrays. A JS array spends 8 bytes on every number; packed, a point takes
// 12 when its values fit exactly, and the arrays are rebuilt only when a bucket closes or a tier reads
// them (once per closed block).
//
//   narrow (Uint32Array): time − tBase [n] | heap − heapBase [n] | goroutines as float32 bits [n]
//   wide (Float64Array):  time [n] | heap [n] | goroutines [n]      (when some value does not fit)
//
// A missing goroutine count is NaN in both forms (counts are finite, so NaN is never a value).
// unpackPoints gives back exactly the numbers that were packed.
import type { PointSeries } from "./points.ts";

export interface PackedPoints {
  readonly length: number;
  /** Subtracted from every time (narrow form only; 0 in the wide form). */
  readonly tBase: number;
  /** Subtracted from every heap value (narrow form only; 0 in the wide form). */
  readonly heapBase: number;
  readonly words: Uint32Array | Float64Array;
}

const UINT32_LIMIT = 2 ** 32;

const EMPTY: PackedPoints = { length: 0, tBase: 0, heapBase: 0, words: new Uint32Array(0) };

// Reinterprets a float32 as its 32 bits and back.
const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

function smallest(values: readonly number[]): number {
  let min = Infinity;
  for (const v of values) if (v < min) min = v;
  return min;
}

/** Every value is an integer that fits in 32 bits once `base` is subtracted. */
function fitsAbove(values: readonly number[], base: number): boolean {
  return values.every((v) => Number.isSafeInteger(v) && v - base < UINT32_LIMIT);
}

function fitsFloat32(values: readonly (number | null)[]): boolean {
  return values.every((v) => v === null || Math.fround(v) === v);
}

export function packPoints(points: PointSeries): PackedPoints {
  const n = points.t.length;
  if (n === 0) return EMPTY;
  const tBase = smallest(points.t);
  const heapBase = smallest(points.heap);
  const narrow =
    fitsAbove(points.t, tBase) && fitsAbove(points.heap, heapBase) && fitsFloat32(points.goroutines);
  if (!narrow) {
    const words = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      words[i] = points.t[i] ?? 0;
      words[n + i] = points.heap[i] ?? 0;
      words[2 * n + i] = points.goroutines[i] ?? Number.NaN;
    }
    return { length: n, tBase: 0, heapBase: 0, words };
  }
  const words = new Uint32Array(3 * n);
  for (let i = 0; i < n; i++) {
    words[i] = (points.t[i] ?? tBase) - tBase;
    words[n + i] = (points.heap[i] ?? heapBase) - heapBase;
    float32[0] = points.goroutines[i] ?? Number.NaN;
    words[2 * n + i] = float32Bits[0] ?? 0;
  }
  return { length: n, tBase, heapBase, words };
}

export function unpackPoints(packed: PackedPoints): PointSeries {
  const n = packed.length;
  const { words, tBase, heapBase } = packed;
  const t = new Array<number>(n);
  const heap = new Array<number>(n);
  const goroutines = new Array<number | null>(n);
  const wide = words instanceof Float64Array;
  for (let i = 0; i < n; i++) {
    t[i] = (words[i] ?? 0) + tBase;
    heap[i] = (words[n + i] ?? 0) + heapBase;
    let g: number;
    if (wide) g = words[2 * n + i] ?? Number.NaN;
    else {
      float32Bits[0] = words[2 * n + i] ?? 0;
      g = float32[0] ?? Number.NaN;
    }
    goroutines[i] = Number.isNaN(g) ? null : g;
  }
  return { t, heap, goroutines };
}

/** The last point's time, or undefined when there are none. */
export function lastPointTime(packed: PackedPoints): number | undefined {
  if (packed.length === 0) return undefined;
  return (packed.words[packed.length - 1] ?? 0) + packed.tBase;
}
