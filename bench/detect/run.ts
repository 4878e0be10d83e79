// `npm run bench:detect`: LeakWatch against the baselines on the labelled corpus, side by side.
//   --set report|tune   which seeds (default report: never seen while tuning)
//   --scale N           corpus size multiplier (default 1; e.g. 0.25 for a quick look)
//   --scenario NAME     only this scenario
//   --misses            list the series each detector got wrong (LeakWatch only)
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import {
  createSeriesState,
  observe,
  resolveDetectorConfig,
  serializeSeriesState,
  type Sample,
} from "../../src/detect/index.ts";
import { holmes } from "./baselines/holmes.ts";
import { linearRegressionRule } from "./baselines/linear-regression.ts";
import { predictLinear } from "./baselines/predict-linear.ts";
import type { AlarmRule } from "./baselines/rule.ts";
import { generateCorpus, type CorpusSet } from "./corpus/generate.ts";
import type { LabelledSeries } from "./corpus/types.ts";
import { loadRecordings } from "./recordings.ts";
import { printReport, type DetectorRun } from "./report.ts";
import { outcome, type SeriesOutcome } from "./score.ts";

const { values } = parseArgs({
  options: {
    set: { type: "string", default: "report" },
    scale: { type: "string", default: "1" },
    scenario: { type: "string" },
    misses: { type: "boolean", default: false },
  },
});
function corpusSet(value: string): CorpusSet {
  if (value === "report" || value === "tune") return value;
  throw new Error("--set must be report or tune");
}
const set = corpusSet(values.set);
const scale = Number(values.scale);

const started = performance.now();
let corpus: LabelledSeries[] = [
  ...generateCorpus(set, scale),
  ...(await loadRecordings(fileURLToPath(new URL("./recordings/", import.meta.url)))),
];
if (values.scenario !== undefined) corpus = corpus.filter((s) => s.scenario === values.scenario);
const generatedMs = performance.now() - started;

interface LeakWatchRun {
  readonly heap: SeriesOutcome[];
  readonly goroutines: SeriesOutcome[];
  updates: number;
  observeMs: number;
  readonly stateBytes: number[];
  readonly tiers: Map<string, number>;
}

function runLeakWatch(series: readonly LabelledSeries[]): LeakWatchRun {
  const run: LeakWatchRun = {
    heap: [],
    goroutines: [],
    updates: 0,
    observeMs: 0,
    stateBytes: [],
    tiers: new Map(),
  };
  for (const s of series) {
    const config = resolveDetectorConfig({ heapCeilingBytes: s.heapCeilingBytes });
    const state = createSeriesState();
    const heapFiring: boolean[] = [];
    const goroutineFiring: boolean[] = [];
    let firstTier: string | null = null;
    const t0 = performance.now();
    for (const sample of s.samples) {
      const a = observe(state, sample, config);
      const leaking = a.heap.verdict === "Leaking";
      if (leaking && firstTier === null && (s.heapLeak === null || sample.t >= s.heapLeak.onsetMs))
        firstTier = a.heap.tier;
      heapFiring.push(leaking);
      goroutineFiring.push(a.goroutines.verdict === "Leaking");
    }
    run.observeMs += performance.now() - t0;
    run.updates += s.samples.length;
    run.stateBytes.push(serializeSeriesState(state).length);
    if (firstTier !== null) run.tiers.set(firstTier, (run.tiers.get(firstTier) ?? 0) + 1);
    run.heap.push(outcome(s, s.heapLeak, heapFiring));
    run.goroutines.push(outcome(s, s.goroutineLeak, goroutineFiring));
  }
  return run;
}

function runRule(rule: AlarmRule, series: readonly LabelledSeries[]): SeriesOutcome[] {
  return series.map((s) => {
    const evaluate = rule.create(s.heapCeilingBytes);
    return outcome(
      s,
      s.heapLeak,
      s.samples.map((sample: Sample) => evaluate(sample)),
    );
  });
}

const lw = runLeakWatch(corpus);
const runs: DetectorRun[] = [
  { name: "LeakWatch", outcomes: lw.heap },
  ...[predictLinear, linearRegressionRule(60_000), holmes].map((rule) => ({
    name: rule.name,
    outcomes: runRule(rule, corpus),
  })),
];
printReport({
  set,
  scale,
  corpus,
  runs,
  goroutines: lw.goroutines,
  microsPerUpdate: (lw.observeMs * 1000) / Math.max(1, lw.updates),
  updates: lw.updates,
  stateBytes: lw.stateBytes,
  tiers: lw.tiers,
  generatedMs,
  totalMs: performance.now() - started,
  listMisses: values.misses,
  minGoroutineGrowthPerHour: resolveDetectorConfig().minGoroutineGrowthPerHour,
});
