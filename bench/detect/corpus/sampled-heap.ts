// A flat Go service as its heap profile reports it. Go samples allocations about once per 512 KiB
// (runtime.MemProfileRate) and `inuse_space` scales each sampled allocation up, so a small heap is
// read with a large error that wanders as objects are replaced. The service: a 4 MiB cache of 64
// entries of 64 KiB, four entries replaced per scrape, plus twenty small runtime objects.

const MEM_PROFILE_RATE = 512 * 1024;
const ENTRY = 64 * 1024;
const ENTRIES = 64;
const REPLACED_PER_SCRAPE = 4;
const RUNTIME_OBJECTS = 20;
const RUNTIME_OBJECT = 16 * 1024;

/**
 * What the controller passes the detector for this heap (src/profile/heap.ts effectiveSamplingBytes):
 * Σ bytes·s·(1 − p)/p over the in-use bytes, for objects of s = 64 KiB (the runtime objects are few).
 */
export const EFFECTIVE_SAMPLING_BYTES =
  (ENTRY * Math.exp(-ENTRY / MEM_PROFILE_RATE)) / (1 - Math.exp(-ENTRY / MEM_PROFILE_RATE));

/** Bytes the service allocates per scrape (the entries it replaces). */
export const ALLOCATED_PER_SCRAPE = REPLACED_PER_SCRAPE * ENTRY;

/** A seeded linear congruential generator: the same series every time. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

/** What the profile reports for one allocation: size / p when sampled (probability p), else 0. */
function reported(size: number, rnd: () => number): number {
  const p = 1 - Math.exp(-size / MEM_PROFILE_RATE);
  return rnd() < p ? size / p : 0;
}

/** In-use bytes as `scrapes` successive heap profiles of the flat service report them. */
export function sampledFlatHeap(seed: number, scrapes: number): number[] {
  const rnd = random(seed);
  const cache = Array.from({ length: ENTRIES }, () => reported(ENTRY, rnd));
  const runtime = Array.from({ length: RUNTIME_OBJECTS }, () => reported(RUNTIME_OBJECT, rnd));
  const base = runtime.reduce((a, b) => a + b, 0);
  let next = 0;
  const heaps: number[] = [];
  for (let i = 0; i < scrapes; i++) {
    for (let k = 0; k < REPLACED_PER_SCRAPE; k++) cache[next++ % ENTRIES] = reported(ENTRY, rnd);
    heaps.push(Math.max(1, base + cache.reduce((a, b) => a + b, 0)));
  }
  return heaps;
}
