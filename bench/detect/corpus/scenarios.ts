// The scenario catalogue: what each labelled scenario looks like and how many of each the corpus holds.
// These parameters were written down before the detector was built (see bench/detect/README.md).
import type { SeriesPlan } from "./plan.ts";
import type { Random } from "./random.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const MIB = 1024 * 1024;

export interface Scenario {
  readonly name: string;
  /** Does the heap leak? (goroutine truth is carried by the plan.) */
  readonly heapLeaks: boolean;
  /** Series per corpus at scale 1. */
  readonly count: number;
  readonly plan: (rng: Random, startMs: number) => SeriesPlan;
}

/** What every series shares: a realistic background of traffic noise, GC overshoot and scrape trouble. */
function background(rng: Random, startMs: number, durationMs: number): SeriesPlan {
  const baseBytes = rng.logUniform(32 * MIB, 2048 * MIB);
  return {
    durationMs,
    intervalMs: MIN,
    startMs,
    baseBytes,
    warmup: { startFraction: rng.uniform(0.4, 0.95), tauMs: rng.logUniform(0.5 * MIN, 5 * MIN) },
    diurnal: null,
    traffic: { sigma: rng.uniform(0.005, 0.03), tauMs: rng.uniform(5 * MIN, 60 * MIN) },
    gcOvershoot: rng.uniform(0.02, 0.3),
    spikeChance: rng.uniform(0, 0.01),
    lowGlitchChance: 0.0005,
    missingChance: rng.uniform(0, 0.01),
    outages: rng.chance(0.2) ? [outage(rng, durationMs)] : [],
    sawtooth: null,
    bursts: null,
    step: null,
    restartsAtMs: [],
    heapLeak: null,
    ceilingBytes: 0,
    oomRestarts: false,
    goroutines: { base: Math.round(rng.logUniform(10, 2000)), loadFollow: rng.uniform(0.2, 1), leak: null },
  };
}

function outage(rng: Random, durationMs: number): { fromMs: number; toMs: number } {
  const fromMs = rng.uniform(HOUR, durationMs - HOUR);
  return { fromMs, toMs: fromMs + rng.uniform(5, 30) * MIN };
}

function diurnal(rng: Random, maxAmplitude = 0.3): SeriesPlan["diurnal"] {
  return { amplitude: rng.uniform(0.05, maxAmplitude), phase: rng.uniform(0, 2 * Math.PI) };
}

function sawtooth(rng: Random, maxPeriodMs = 60 * MIN): SeriesPlan["sawtooth"] {
  return { amplitude: rng.uniform(0.1, 0.6), periodMs: rng.logUniform(2 * MIN, maxPeriodMs) };
}

function bursts(rng: Random): SeriesPlan["bursts"] {
  return { perHour: rng.uniform(0.3, 3), maxHeight: rng.uniform(0.15, 0.6), maxHoldMs: 60 * MIN };
}

/** The highest healthy heap the plan can reach, as a multiple of base. */
function healthyPeak(p: SeriesPlan): number {
  const load = 1 + (p.diurnal?.amplitude ?? 0) + 3 * p.traffic.sigma;
  const extra =
    (p.sawtooth?.amplitude ?? 0) + (p.bursts === null ? 0 : 2 * p.bursts.maxHeight) + (p.step?.height ?? 0);
  return (load + extra) * (1 + p.gcOvershoot);
}

/** Limits are set with headroom above the healthy peak, as teams size them. */
function withCeiling(p: SeriesPlan, rng: Random, lo = 1.3, hi = 2.5): SeriesPlan {
  return { ...p, ceilingBytes: p.baseBytes * healthyPeak(p) * rng.uniform(lo, hi) };
}

/** Leaks: a few background variants so a leak is never only a clean line. */
function leakBackground(rng: Random, startMs: number, durationMs: number): SeriesPlan {
  const p = background(rng, startMs, durationMs);
  const roll = rng.next();
  if (roll < 0.2) return { ...p, sawtooth: sawtooth(rng, 30 * MIN) };
  if (roll < 0.4) return { ...p, bursts: bursts(rng) };
  if (roll < 0.5) return { ...p, gcOvershoot: rng.uniform(0.4, 1) };
  return p;
}

function leak(
  onsetMs: number,
  percentPerHour: number,
  burstsPerHour: number | null = null,
): SeriesPlan["heapLeak"] {
  return { onsetMs, ratePerHour: percentPerHour / 100, burstsPerHour };
}

export const scenarios: readonly Scenario[] = [
  // ---- healthy ----
  {
    name: "idle",
    heapLeaks: false,
    count: 40,
    plan: (rng, start) => {
      const p = background(rng, start, 24 * HOUR);
      return withCeiling(
        { ...p, traffic: { sigma: 0.002, tauMs: 30 * MIN }, gcOvershoot: rng.uniform(0.01, 0.05) },
        rng,
      );
    },
  },
  {
    name: "steady-gc-noise",
    heapLeaks: false,
    count: 50,
    plan: (rng, start) => withCeiling(background(rng, start, 24 * HOUR), rng),
  },
  {
    name: "heavy-gc-noise",
    heapLeaks: false,
    count: 40,
    plan: (rng, start) => {
      const p = background(rng, start, 24 * HOUR);
      return withCeiling({ ...p, gcOvershoot: rng.uniform(0.4, 1), spikeChance: 0.01 }, rng);
    },
  },
  {
    name: "sawtooth",
    heapLeaks: false,
    count: 50,
    plan: (rng, start) => withCeiling({ ...background(rng, start, 24 * HOUR), sawtooth: sawtooth(rng) }, rng),
  },
  {
    name: "warmup-plateau",
    heapLeaks: false,
    count: 40,
    plan: (rng, start) => {
      const p = background(rng, start, 24 * HOUR);
      const warmup = { startFraction: rng.uniform(0.2, 0.6), tauMs: rng.logUniform(5 * MIN, 60 * MIN) };
      return withCeiling({ ...p, warmup }, rng);
    },
  },
  {
    name: "diurnal",
    heapLeaks: false,
    count: 60,
    plan: (rng, start) => withCeiling({ ...background(rng, start, 48 * HOUR), diurnal: diurnal(rng) }, rng),
  },
  {
    name: "step-up",
    heapLeaks: false,
    count: 40,
    plan: (rng, start) => {
      const p = background(rng, start, 24 * HOUR);
      const step = {
        atMs: rng.uniform(2 * HOUR, 20 * HOUR),
        height: rng.uniform(0.1, 0.8),
        rampMs: rng.uniform(1, 10) * MIN,
      };
      return withCeiling({ ...p, step }, rng);
    },
  },
  {
    name: "bursty-traffic",
    heapLeaks: false,
    count: 40,
    plan: (rng, start) => withCeiling({ ...background(rng, start, 24 * HOUR), bursts: bursts(rng) }, rng),
  },
  {
    name: "rollouts",
    heapLeaks: false,
    count: 30,
    plan: (rng, start) => {
      const p = background(rng, start, 24 * HOUR);
      const restartsAtMs: number[] = [];
      for (let at = rng.uniform(2, 8) * HOUR; at < p.durationMs; at += rng.uniform(2, 8) * HOUR)
        restartsAtMs.push(at);
      const warmup = rng.chance(0.3)
        ? { startFraction: rng.uniform(0.2, 0.6), tauMs: rng.logUniform(5 * MIN, 60 * MIN) }
        : p.warmup;
      return withCeiling({ ...p, restartsAtMs, warmup, diurnal: rng.chance(0.5) ? diurnal(rng) : null }, rng);
    },
  },
  {
    // The heap is healthy here; the goroutine count leaks.
    name: "goroutine-leak",
    heapLeaks: false,
    count: 40,
    plan: (rng, start) => {
      const p = background(rng, start, 24 * HOUR);
      const onsetMs = rng.chance(0.5) ? 0 : rng.uniform(1, 12) * HOUR;
      const perHour = p.goroutines.base * rng.logUniform(0.05, 1);
      const d = rng.chance(0.3) ? diurnal(rng) : null;
      return withCeiling(
        { ...p, diurnal: d, goroutines: { ...p.goroutines, leak: { onsetMs, perHour } } },
        rng,
      );
    },
  },
  // ---- leaking ----
  {
    name: "linear-leak",
    heapLeaks: true,
    count: 70,
    plan: (rng, start) => {
      const p = leakBackground(rng, start, 24 * HOUR);
      return withCeiling({ ...p, heapLeak: leak(0, rng.logUniform(2, 60)) }, rng, 1.5, 3);
    },
  },
  {
    name: "late-onset-leak",
    heapLeaks: true,
    count: 50,
    plan: (rng, start) => {
      const p = leakBackground(rng, start, 24 * HOUR);
      return withCeiling(
        { ...p, heapLeak: leak(rng.uniform(2, 16) * HOUR, rng.logUniform(2, 60)) },
        rng,
        1.5,
        3,
      );
    },
  },
  {
    name: "stepwise-leak",
    heapLeaks: true,
    count: 50,
    plan: (rng, start) => {
      const p = background(rng, start, 24 * HOUR);
      const b = rng.chance(0.5) ? bursts(rng) : null;
      return withCeiling(
        { ...p, bursts: b, heapLeak: leak(0, rng.logUniform(3, 60), rng.uniform(1, 6)) },
        rng,
        1.5,
        3,
      );
    },
  },
  {
    name: "diurnal-leak",
    heapLeaks: true,
    count: 70,
    plan: (rng, start) => {
      const p = { ...background(rng, start, 48 * HOUR), diurnal: diurnal(rng) };
      const onsetMs = rng.chance(0.5) ? 0 : rng.uniform(2, 20) * HOUR;
      return withCeiling({ ...p, heapLeak: leak(onsetMs, rng.logUniform(2, 30)) }, rng, 1.5, 3);
    },
  },
  {
    name: "leak-across-restart",
    heapLeaks: true,
    count: 40,
    plan: (rng, start) => {
      const p = leakBackground(rng, start, 48 * HOUR);
      const d = rng.chance(0.5) ? diurnal(rng) : null;
      const restartsAtMs = [rng.uniform(3, 16) * HOUR];
      return withCeiling(
        { ...p, diurnal: d, restartsAtMs, heapLeak: leak(0, rng.logUniform(2, 40)) },
        rng,
        1.5,
        3,
      );
    },
  },
  {
    name: "oom-loop",
    heapLeaks: true,
    count: 40,
    plan: (rng, start) => {
      const p = leakBackground(rng, start, 48 * HOUR);
      const d = rng.chance(0.5) ? diurnal(rng) : null;
      const planned = withCeiling(
        { ...p, diurnal: d, heapLeak: leak(0, rng.logUniform(2, 60)) },
        rng,
        1.1,
        1.6,
      );
      return { ...planned, oomRestarts: true };
    },
  },
];
