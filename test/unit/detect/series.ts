// Small deterministic series builders for the detector tests.
import type { Sample } from "../../../src/detect/index.ts";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const MIB = 1024 * 1024;
export const START = Date.UTC(2026, 0, 1);

/** Deterministic uniform noise in [-1, 1) (an LCG, so tests never flake). */
export function noise(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  };
}

/** One sample a minute for `hours`, heap given by `heapAt(minutesSinceStart)` plus ±`jitter` relative noise. */
export function series(hours: number, heapAt: (minute: number) => number, jitter = 0.01, seed = 1): Sample[] {
  const rand = noise(seed);
  const out: Sample[] = [];
  for (let m = 0; m < hours * 60; m++) {
    out.push({
      t: START + m * MINUTE,
      heapInuseBytes: Math.round(heapAt(m) * (1 + jitter * rand())),
      goroutines: 50 + Math.round(2 * rand()),
    });
  }
  return out;
}
