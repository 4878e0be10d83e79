import { describe, expect, it } from "vitest";
import {
  createSeriesState,
  defaultDetectorConfig,
  InvalidDetectorConfigError,
  InvalidSampleError,
  InvalidSeriesStateError,
  observe,
  resolveDetectorConfig,
  restoreSeriesState,
  serializeSeriesState,
  type Assessment,
  type Sample,
} from "../../../src/detect/index.ts";
import { timingOf } from "../../../src/detect/timing.ts";
import { sampledFlatHeap } from "../../../bench/detect/corpus/sampled-heap.ts";
import { HOUR, MIB, MINUTE, noise, series, START } from "./series.ts";

function replay(samples: readonly Sample[], overrides = {}): Assessment[] {
  const config = resolveDetectorConfig(overrides);
  const state = createSeriesState();
  return samples.map((s) => observe(state, s, config));
}

function firstLeaking(assessments: readonly Assessment[]): Assessment | undefined {
  return assessments.find((a) => a.heap.verdict === "Leaking");
}

const base = 200 * MIB;

/** One sample a minute; each lands uniformly in [live, live·(1 + overshoot)], as GC leaves garbage. */
function gcNoisy(
  hours: number,
  heapAt: (minute: number) => number,
  overshoot: number,
  seed: number,
): Sample[] {
  const rand = noise(seed);
  return Array.from({ length: hours * 60 }, (_, m) => ({
    t: START + m * MINUTE,
    heapInuseBytes: Math.round(heapAt(m) * (1 + (overshoot * (rand() + 1)) / 2)),
    goroutines: 50,
  }));
}

describe("defaults and config", () => {
  it("exports one set of defaults", () => {
    expect(defaultDetectorConfig).toMatchObject({
      windowMs: 2 * HOUR,
      warmupMs: 10 * MINUTE,
      sensitivity: "Medium",
      cycleMs: 24 * HOUR,
    });
  });

  it("derives every time constant from the window and the interval (defaults unchanged)", () => {
    const config = resolveDetectorConfig();
    expect(config.maxHealthyRampMs).toBe(HOUR);
    expect(timingOf(config)).toMatchObject({
      samplesPerBlock: 3,
      blockMs: 3 * MINUTE,
      windowBlocks: 40,
      minBlocks: 8,
      bucketMs: 15 * MINUTE,
      rampMs: HOUR,
    });
    const demo = resolveDetectorConfig({ sampleIntervalMs: 2000, windowMs: 2 * MINUTE, warmupMs: 10_000 });
    expect(demo.maxHealthyRampMs).toBe(MINUTE);
    expect(timingOf(demo)).toMatchObject({
      samplesPerBlock: 3,
      blockMs: 6000,
      windowBlocks: 20,
      rampMs: MINUTE,
    });
    expect(resolveDetectorConfig({ maxHealthyRampMs: 20 * MINUTE }).maxHealthyRampMs).toBe(20 * MINUTE);
  });

  it("accepts a window of ten scrape intervals (as the CRD does), with one sample per block", () => {
    const config = resolveDetectorConfig({ windowMs: 10 * MINUTE });
    expect(timingOf(config)).toMatchObject({ samplesPerBlock: 1, windowBlocks: 10, minBlocks: 8 });
    expect(() => resolveDetectorConfig({ windowMs: 9 * MINUTE })).toThrow(/10 sample intervals/);
    const out = replay(
      series(3, (m) => base * (1 + (0.5 * m) / 60), 0.01),
      { windowMs: 10 * MINUTE },
    );
    expect(firstLeaking(out)?.heap.tier).toBe("fast");
    expect(
      firstLeaking(
        replay(
          series(6, () => base, 0.03),
          { windowMs: 10 * MINUTE },
        ),
      ),
    ).toBeUndefined();
  });

  it("rejects impossible settings with a typed error", () => {
    expect(() => resolveDetectorConfig({ windowMs: -1 })).toThrow(InvalidDetectorConfigError);
    expect(() => resolveDetectorConfig({ cycleMs: HOUR })).toThrow(/cycleMs/);
    expect(() => resolveDetectorConfig({ heapCeilingBytes: 0 })).toThrow(/heapCeilingBytes/);
    expect(() => resolveDetectorConfig({ maxHealthyRampMs: 3 * HOUR })).toThrow(/maxHealthyRampMs/);
  });
});

describe("verdicts on clear cases", () => {
  it("collects during warm-up, then calls a flat series Healthy and never Leaking", () => {
    const out = replay(series(24, () => base, 0.03));
    expect(out[5]?.heap.verdict).toBe("Collecting");
    expect(out[5]?.heap.reasons.join(" ")).toMatch(/warming up/);
    expect(out.at(-1)?.heap.verdict).toBe("Healthy");
    expect(firstLeaking(out)).toBeUndefined();
  });

  it("calls a fast linear leak from the start within an hour and a half, with its slope and time to the ceiling", () => {
    const rate = 0.3 * base; // 30%/h
    const ceiling = 4 * base;
    const out = replay(
      series(6, (m) => base + (rate * m) / 60, 0.01),
      { heapCeilingBytes: ceiling },
    );
    const hit = firstLeaking(out);
    expect(hit?.heap.tier).toBe("fast");
    expect((hit?.t ?? Infinity) - START).toBeLessThan(1.5 * HOUR);
    expect(hit?.heap.slopePerHour).toBeGreaterThan(0.8 * rate);
    expect(hit?.heap.slopePerHour).toBeLessThan(1.2 * rate);
    expect(hit?.heap.confidence).toBeGreaterThan(0.99);
    const level = hit?.heap.level ?? 0;
    const expected = ((ceiling - level) / (hit?.heap.slopePerHour ?? 1)) * HOUR;
    expect(hit?.heap.timeToCeilingMs).toBeCloseTo(expected, -3);
    expect(hit?.heap.growingForMs).toBeGreaterThanOrEqual(HOUR);
    expect(hit?.heap.reasons.join(" ")).toMatch(/warm-up would have slowed down/);
  });

  it("calls an 18%/h leak from the start within two hours: with no history, the assumed traffic wander is the doubt, not a higher bar", () => {
    for (const seed of [1, 2, 3]) {
      const hit = firstLeaking(replay(series(8, (m) => base * (1 + (0.18 * m) / 60), 0.01, seed)));
      expect(hit?.heap.tier).toBe("fast");
      expect((hit?.t ?? Infinity) - START).toBeLessThan(2 * HOUR);
    }
  });

  it("calls a fast leak under heavy GC noise in the fast tier: a fall-back within the noise is not a sawtooth", () => {
    for (const seed of [1, 2, 3]) {
      const hit = firstLeaking(replay(gcNoisy(8, (m) => base * (1 + (0.3 * m) / 60), 0.5, seed)));
      expect(hit?.heap.tier).toBe("fast");
      expect((hit?.t ?? Infinity) - START).toBeLessThan(5 * HOUR);
    }
  });

  it("still calls no sawtooth under heavy GC noise", () => {
    for (const seed of [1, 2, 3]) {
      const out = replay(gcNoisy(24, (m) => base * (1 + 0.5 * ((m % 40) / 40)), 0.3, seed));
      expect(firstLeaking(out)).toBeUndefined();
    }
  });

  it("calls a fast leak after hours of health within the hour, once it leaves the envelope", () => {
    const onset = 10 * 60;
    const out = replay(series(16, (m) => base * (1 + (m > onset ? (0.4 * (m - onset)) / 60 : 0)), 0.03, 3));
    const hit = firstLeaking(out);
    expect(hit?.heap.tier).toBe("fast");
    expect((hit?.t ?? Infinity) - START - 10 * HOUR).toBeLessThan(45 * MINUTE);
    expect(hit?.heap.reasons.join(" ")).toMatch(/above the highest level/);
    expect(out.slice(0, onset).some((a) => a.heap.verdict === "Leaking")).toBe(false);
  });

  it("does not call healthy traffic bursts that hold and release a leak", () => {
    const rand = noise(11);
    const bursts: { at: number; hold: number; height: number }[] = [];
    for (let at = 30; at < 24 * 60; at += 20 + Math.floor(40 * (rand() + 1))) {
      bursts.push({ at, hold: 5 + Math.floor(25 * (rand() + 1)), height: 0.15 + 0.2 * (rand() + 1) });
    }
    const heapAt = (m: number): number =>
      base * (1 + bursts.reduce((h, b) => h + (m >= b.at && m < b.at + b.hold ? b.height : 0), 0));
    expect(firstLeaking(replay(series(24, heapAt, 0.03, 12)))).toBeUndefined();
  });

  it("calls growth a load cycle could match when it would reach the memory limit within two windows", () => {
    for (const seed of [1, 2, 3]) {
      const samples = series(5, (m) => base * (1 + (0.12 * m) / 60), 0.03, seed); // at the limit at 5 h
      expect(firstLeaking(replay(samples))).toBeUndefined();
      const hit = firstLeaking(replay(samples, { heapCeilingBytes: 1.6 * base }));
      expect(hit?.heap.tier).toBe("fast");
      expect((hit?.t ?? Infinity) - START).toBeLessThan(4 * HOUR);
      expect(hit?.heap.reasons.join(" ")).toMatch(/on course to reach the memory limit within 4h/);
    }
  });

  it("does not call a ±30% daily load cycle a leak when its peak sits at 77% or 82% of the limit", () => {
    for (const seed of [1, 2, 3]) {
      const samples = series(
        48,
        (m) => base * (1 + 0.3 * Math.sin((2 * Math.PI * m) / (24 * 60))),
        0.02,
        seed,
      );
      for (const peakShare of [0.77, 0.82]) {
        const heapCeilingBytes = (1.3 / peakShare) * base;
        expect(firstLeaking(replay(samples, { heapCeilingBytes }))).toBeUndefined();
      }
    }
  });

  it("calls slow steady growth on course to the memory limit before the limit, in the sustained tier too", () => {
    const tiers: (string | null | undefined)[] = [];
    for (const seed of [1, 2, 3]) {
      const samples = series(13, (m) => base * (1 + (0.04 * m) / 60), 0.02, seed); // at the limit at 12.5 h
      expect(firstLeaking(replay(samples))).toBeUndefined();
      const hit = firstLeaking(replay(samples, { heapCeilingBytes: 1.5 * base }));
      expect((hit?.t ?? Infinity) - START).toBeLessThan(12 * HOUR);
      expect(hit?.heap.reasons.join(" ")).toMatch(/on course to reach the memory limit within 4h/);
      tiers.push(hit?.heap.tier);
    }
    // The fast tier's 2 h window may get there first; the sustained tier's 4 h and longer spans must too.
    expect(tiers).toContain("sustained");
  });

  it("judges the headroom from the heap's peaks, where the container is killed, not from its troughs", () => {
    for (const seed of [1, 2, 3]) {
      // GC leaves up to 20% garbage: the peaks reach the ceiling when the live heap is at 1.96 × base (12 h).
      const samples = gcNoisy(12, (m) => base * (1 + (0.08 * m) / 60), 0.2, seed);
      const hit = firstLeaking(replay(samples, { heapCeilingBytes: 1.96 * 1.2 * base }));
      expect(hit).toBeDefined();
      expect(hit?.heap.reasons.join(" ")).toMatch(/on course to reach the memory limit within 4h/);
    }
  });

  it("calls a slow leak (3%/h) only after a sustained stretch, naming the tier", () => {
    const out = replay(series(40, (m) => base * (1 + (0.03 * m) / 60), 0.02));
    const hit = firstLeaking(out);
    expect(hit).toBeDefined();
    expect(["sustained", "cycle"]).toContain(hit?.heap.tier);
    expect((hit?.t ?? 0) - START).toBeGreaterThan(12 * HOUR);
  });

  it("does not call a one-off step up a leak", () => {
    const out = replay(
      series(
        24,
        (m) => (m < 6 * 60 ? base : m < 6 * 60 + 5 ? base * (1 + 0.1 * (m - 360)) : 1.5 * base),
        0.02,
      ),
    );
    expect(firstLeaking(out)).toBeUndefined();
  });

  it("does not call a sawtooth a leak", () => {
    const out = replay(series(24, (m) => base * (1 + 0.5 * ((m % 40) / 40)), 0.02));
    expect(firstLeaking(out)).toBeUndefined();
  });

  it("does not call warm-up that settles into a plateau a leak", () => {
    const out = replay(series(24, (m) => base * (1 - 0.6 * Math.exp(-m / 30)), 0.02));
    expect(firstLeaking(out)).toBeUndefined();
  });

  it("does not call a ±30% daily load cycle a leak", () => {
    const out = replay(series(48, (m) => base * (1 + 0.3 * Math.sin((2 * Math.PI * m) / (24 * 60))), 0.02));
    expect(firstLeaking(out)).toBeUndefined();
    expect(out.at(-1)?.heap.reasons.join(" ")).toMatch(/load cycle/);
  });
});

describe("robustness", () => {
  it("a single GC spike changes no verdict", () => {
    const clean = series(8, (m) => base * (1 + (0.2 * m) / 60), 0.01);
    const spiked = clean.map((s, i) => (i === 200 ? { ...s, heapInuseBytes: s.heapInuseBytes * 3 } : s));
    const low = clean.map((s, i) =>
      i === 300 ? { ...s, heapInuseBytes: Math.round(s.heapInuseBytes * 0.2) } : s,
    );
    const verdicts = (out: Assessment[]): string[] => out.map((a) => a.heap.verdict);
    expect(verdicts(replay(spiked))).toEqual(verdicts(replay(clean)));
    expect(verdicts(replay(low))).toEqual(verdicts(replay(clean)));
  });

  it("does not take a sampling-noise peak for a breakout: the current level is a lower envelope, like the history's", () => {
    // A flat 4 MiB heap read through Go's 512 KiB heap-profile sampling; these two days were called a
    // breakout ("…MiB above the highest level of the last …h") when the block-level fit was compared
    // with the history's 15-minute low quartiles.
    for (const seed of [68, 93]) {
      const samples = sampledFlatHeap(seed, 1440).map((heapInuseBytes, i) => ({
        t: START + i * MINUTE,
        heapInuseBytes,
      }));
      expect(firstLeaking(replay(samples))?.heap.reasons).toBeUndefined();
    }
  });

  it("is deterministic", () => {
    const samples = series(10, (m) => base * (1 + (0.15 * m) / 60), 0.05, 9);
    expect(replay(samples)).toEqual(replay(samples));
  });

  it("ignores samples at or before the last one", () => {
    const config = resolveDetectorConfig();
    const state = createSeriesState();
    const first = observe(state, { t: START, heapInuseBytes: 10 }, config);
    expect(observe(state, { t: START, heapInuseBytes: 99 }, config)).toBe(first);
  });

  it("rejects invalid samples with a typed error", () => {
    const config = resolveDetectorConfig();
    expect(() => observe(createSeriesState(), { t: Number.NaN, heapInuseBytes: 1 }, config)).toThrow(
      InvalidSampleError,
    );
    expect(() => observe(createSeriesState(), { t: 1, heapInuseBytes: -1 }, config)).toThrow(
      InvalidSampleError,
    );
  });
});

describe("state", () => {
  it("survives a save and restore mid-stream with identical results", () => {
    const samples = series(30, (m) => base * (1 + (0.05 * m) / 60 + 0.1 * Math.sin(m / 50)), 0.03, 4);
    const config = resolveDetectorConfig();
    const straight = createSeriesState();
    const expected = samples.map((s) => observe(straight, s, config));
    let state = createSeriesState();
    const got = samples.map((s, i) => {
      if (i % 500 === 0) state = restoreSeriesState(serializeSeriesState(state));
      return observe(state, s, config);
    });
    expect(got).toEqual(expected);
  });

  it("stays bounded: under 12 KB of JSON after three days", () => {
    const config = resolveDetectorConfig();
    const state = createSeriesState();
    for (const s of series(72, (m) => base * (1 + 0.2 * Math.sin(m / 100)), 0.02)) observe(state, s, config);
    expect(serializeSeriesState(state).length).toBeLessThan(12_000);
    expect(state.blocks.t.length).toBeLessThanOrEqual(40);
    expect(state.buckets.length).toBeLessThanOrEqual(2 * 96 + 1);
  });

  it("refuses malformed persisted state", () => {
    expect(() => restoreSeriesState("{")).toThrow(InvalidSeriesStateError);
    expect(() => restoreSeriesState(JSON.stringify({ version: 2 }))).toThrow(/version/);
  });
});

describe("restarts and OOM loops", () => {
  it("starts over after a restart, warming up again", () => {
    const samples = series(4, () => base, 0.01);
    const restarted = samples.map((s, i) => (i === 120 ? { ...s, restart: true } : s));
    const out = replay(restarted);
    expect(out[121]?.heap.verdict).toBe("Collecting");
  });

  it("splits at a drop of more than half without a restart marker", () => {
    const samples = series(4, (m) => (m < 120 ? base : base / 4), 0.01);
    const out = replay(samples);
    expect(out[125]?.heap.reasons.join(" ")).toMatch(/warming up/);
  });

  it("recognises an OOM loop: growth to the limit, killed, the same growth again", () => {
    const rand = noise(5);
    const samples: Sample[] = [];
    let start = 0;
    let oom = false;
    for (let m = 0; m < 40 * 60; m++) {
      const age = m - start;
      const heap = base * (1 + (0.04 * age) / 60) * (1 + 0.01 * rand());
      const restart = m > 0 && age === 0;
      samples.push({
        t: START + m * MINUTE,
        heapInuseBytes: Math.round(heap),
        ...(restart ? { restart: true, ...(oom ? { oomKilled: true } : {}) } : {}),
      });
      if (heap > 1.4 * base) {
        start = m + 1;
        oom = true;
      }
    }
    const out = replay(samples);
    const hit = firstLeaking(out);
    expect(hit).toBeDefined();
    expect(["oom-loop", "sustained"]).toContain(hit?.heap.tier);
    expect(out.some((a) => a.heap.tier === "oom-loop")).toBe(true);
  });
});

describe("goroutines", () => {
  it("uses the same machinery for goroutine counts", () => {
    const samples = series(8, () => base, 0.01).map((s, i) => ({
      ...s,
      goroutines: 100 + Math.floor(i / 2),
    }));
    const out = replay(samples);
    expect(out.find((a) => a.goroutines.verdict === "Leaking")?.goroutines.tier).toBe("fast");
    expect(firstLeaking(out)).toBeUndefined();
  });

  it("says so when there are no goroutine counts", () => {
    const out = replay(series(2, () => base, 0.01).map(({ t, heapInuseBytes }) => ({ t, heapInuseBytes })));
    expect(out.at(-1)?.goroutines.verdict).toBe("Collecting");
    expect(out.at(-1)?.goroutines.reasons.join(" ")).toMatch(/no goroutines values/);
  });
});

describe("demo speed (interval 2 s, window 2 m, warm-up 10 s)", () => {
  const demo = {
    sampleIntervalMs: 2000,
    windowMs: 2 * MINUTE,
    warmupMs: 10_000,
    minGrowthBytesPerHour: MIB,
  };
  /** leaky-app `slice` on a ~5 MiB heap, scraped every 2 s, with ±15% GC noise. */
  function demoSeries(minutes: number, bytesPerSecond: number, seed: number): Sample[] {
    const rand = noise(seed);
    return Array.from({ length: (minutes * 60) / 2 }, (_, i) => ({
      t: START + i * 2000,
      heapInuseBytes: Math.round((5 * MIB + bytesPerSecond * 2 * i) * (1 + 0.15 * (rand() + 1))),
      goroutines: 12,
    }));
  }

  it("calls a 1 MiB/s leak Leaking within two to four minutes of wall time", () => {
    for (const seed of [1, 2, 3]) {
      const hit = firstLeaking(replay(demoSeries(6, MIB, seed), demo));
      expect(hit?.heap.tier).toBe("fast");
      const after = (hit?.t ?? Infinity) - START;
      expect(after).toBeGreaterThan(MINUTE);
      expect(after).toBeLessThan(4 * MINUTE);
    }
  });

  it("weighs the heap profile's sampling error when told its period: a flat 4 MiB heap is never called, a 1 MiB/s leak still is", () => {
    // Without the period, 29 of these 40 ten-minute runs were called Leaking (bench:detect-noise).
    const sampled = { ...demo, heapSamplingBytes: 512 * 1024 };
    for (let seed = 1; seed <= 40; seed++) {
      const samples = sampledFlatHeap(seed, 300).map((heapInuseBytes, i) => ({
        t: START + i * 2000,
        heapInuseBytes,
      }));
      expect(firstLeaking(replay(samples, sampled))?.heap.reasons).toBeUndefined();
    }
    for (const seed of [1, 2, 3]) {
      const hit = firstLeaking(replay(demoSeries(6, MIB, seed), sampled));
      expect(hit?.heap.tier).toBe("fast");
      expect((hit?.t ?? Infinity) - START).toBeLessThan(4 * MINUTE);
    }
  });

  it("weighs only the sampling error of what the process allocates: a 512 KiB/s leak on a 200 MiB heap is still called", () => {
    const R = 512 * 1024;
    const p = 1 - Math.exp(-1); // a 512 KiB chunk is recorded with this chance, counted as 512 KiB / p
    const rand = noise(5);
    let leaked = 0;
    const samples: Sample[] = Array.from({ length: 150 }, (_, i) => {
      for (let k = 0; k < 2; k++) if ((rand() + 1) / 2 < p) leaked += R / p;
      return { t: START + i * 2000, heapInuseBytes: Math.round(200 * MIB * (1 + 0.01 * rand()) + leaked) };
    });
    // The whole heap's error (±10 MiB) would hide a 60 MiB-per-window rise; the allocated bytes' would not.
    expect(firstLeaking(replay(samples, { ...demo, heapSamplingBytes: R }))).toBeUndefined();
    const allocated = { ...demo, heapSamplingBytes: R, heapAllocBytesPerHour: R * 3600 };
    expect(firstLeaking(replay(samples, allocated))?.heap.tier).toBe("fast");
  });

  it("stays quiet on a flat heap and keeps its state small over hours", () => {
    const config = resolveDetectorConfig(demo);
    const state = createSeriesState();
    let leaking = false;
    for (const s of demoSeries(6 * 60, 0, 4))
      leaking ||= observe(state, s, config).heap.verdict === "Leaking";
    expect(leaking).toBe(false);
    expect(serializeSeriesState(state).length).toBeLessThan(8192);
  });
});
