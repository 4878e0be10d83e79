// `npm run bench:detect-noise [-- --runs N]`: a flat Go service as its heap profile reports it,
// fed to the detector. Go samples allocations about once per 512 KiB (runtime.MemProfileRate), and
// `inuse_space` scales each sampled allocation up, so a small heap is read with a large error that
// moves as objects are replaced. The service: a 4 MiB cache of 64 entries of 64 KiB, four entries
// replaced per scrape (the fault suite's "steady" neighbour), plus twenty small runtime objects.
// Prints how many runs are ever called Leaking (and Suspected) at demo speed (1 s scrapes, 1 min
// window) and at the defaults (60 s scrapes, 2 h window, a day per run). Not part of the labelled
// corpus: a finding to fix, written down in docs/detection.md ("Sampling noise").
import { parseArgs } from "node:util";
import {
  createSeriesState,
  observe,
  resolveDetectorConfig,
  type DetectorConfig,
} from "../../src/detect/index.ts";

const MEM_PROFILE_RATE = 512 * 1024;
const ENTRY = 64 * 1024;
const ENTRIES = 64;
const REPLACED_PER_SCRAPE = 4;
const RUNTIME_OBJECTS = 20;
const RUNTIME_OBJECT = 16 * 1024;

/** A seeded linear congruential generator: the same runs every time. */
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

interface Outcome {
  leaking: number;
  suspected: number;
  firstReason: Map<string, number>;
}

function simulate(config: DetectorConfig, scrapes: number, runs: number): Outcome {
  const outcome: Outcome = { leaking: 0, suspected: 0, firstReason: new Map() };
  for (let run = 0; run < runs; run++) {
    const rnd = random(run + 1);
    const cache = Array.from({ length: ENTRIES }, () => reported(ENTRY, rnd));
    const runtime = Array.from({ length: RUNTIME_OBJECTS }, () => reported(RUNTIME_OBJECT, rnd));
    const state = createSeriesState();
    let next = 0;
    let leaking = false;
    let suspected = false;
    for (let i = 0; i < scrapes; i++) {
      for (let k = 0; k < REPLACED_PER_SCRAPE; k++) cache[next++ % ENTRIES] = reported(ENTRY, rnd);
      const heap = [...cache, ...runtime].reduce((a, b) => a + b, 0);
      const t = 1_000_000 + i * config.sampleIntervalMs;
      const { verdict, tier, reasons } = observe(
        state,
        { t, heapInuseBytes: Math.max(1, heap) },
        config,
      ).heap;
      if (verdict === "Suspected") suspected = true;
      if (verdict === "Leaking" && !leaking) {
        leaking = true;
        // The reason without its numbers: which rule fired.
        const rule = `${tier ?? "?"}: ${(reasons[reasons.length - 1] ?? "").replace(/[\d.]+/g, "#")}`;
        outcome.firstReason.set(rule, (outcome.firstReason.get(rule) ?? 0) + 1);
      }
    }
    if (leaking) outcome.leaking++;
    if (suspected) outcome.suspected++;
  }
  return outcome;
}

const { values } = parseArgs({ options: { runs: { type: "string", default: "200" } } });
const runs = Number(values.runs);
const speeds = [
  {
    name: "demo speed: 1 s scrapes, 1 min window, 3 s warm-up, 200 scrapes per run",
    config: resolveDetectorConfig({ windowMs: 60_000, warmupMs: 3_000, sampleIntervalMs: 1_000 }),
    scrapes: 200,
  },
  {
    name: "defaults: 60 s scrapes, 2 h window, 10 min warm-up, one day per run",
    config: resolveDetectorConfig({}),
    scrapes: 1_440,
  },
];
console.log(
  `A flat 4 MiB Go heap read through Go's 512 KiB heap-profile sampling (${runs} seeded runs per speed):`,
);
for (const speed of speeds) {
  const o = simulate(speed.config, speed.scrapes, runs);
  console.log(`\n${speed.name}`);
  console.log(
    `  ever Leaking: ${o.leaking}/${runs} (${((100 * o.leaking) / runs).toFixed(0)}%)   ever Suspected: ${o.suspected}/${runs}`,
  );
  for (const [rule, count] of [...o.firstReason].sort((a, b) => b[1] - a[1]).slice(0, 4))
    console.log(`  ${String(count).padStart(4)}  ${rule}`);
}
