// tmp: LeakWatch-only quick eval.
import { fileURLToPath } from "node:url";
import { createSeriesState, observe, resolveDetectorConfig, formatDuration, serializeSeriesState } from "../../src/detect/index.ts";
import { generateCorpus, type CorpusSet } from "./corpus/generate.ts";
import { loadRecordings } from "./recordings.ts";
import { outcome, score, type SeriesOutcome } from "./score.ts";
const set = (process.argv[2] ?? "tune") as CorpusSet;
const only = process.argv[3];
let corpus = [...generateCorpus(set, 1), ...(await loadRecordings(fileURLToPath(new URL("./recordings/", import.meta.url))))];
if (only) corpus = corpus.filter((s) => only.split(",").includes(s.scenario));
const outs: SeriesOutcome[] = [];
let ms = 0, n = 0; const sizes: number[] = [];
for (const s of corpus) {
  const config = resolveDetectorConfig({ heapCeilingBytes: s.heapCeilingBytes });
  const state = createSeriesState();
  const firing: boolean[] = [];
  const t0 = performance.now();
  for (const sample of s.samples) firing.push(observe(state, sample, config).heap.verdict === "Leaking");
  ms += performance.now() - t0; n += s.samples.length;
  sizes.push(serializeSeriesState(state).length);
  outs.push(outcome(s, s.heapLeak, firing));
}
const d = (x: number | null) => (x === null ? "-" : formatDuration(x));
const sc = score(outs, (s) => s.heapLeak);
console.log(`${set}: P ${sc.precision.toFixed(3)} R ${sc.recall.toFixed(3)} F1 ${sc.f1.toFixed(3)} TP ${sc.tp}/${sc.leaking} FP ${sc.fp} delay ${d(sc.delayP50Ms)}/${d(sc.delayP95Ms)}`);
const fast = (late: boolean) => (o: SeriesOutcome) => { const t = o.series.heapLeak; if (t === null || !(t.ratePercentPerHour >= 10)) return false; return late === t.onsetMs - (o.series.samples[0]?.t ?? 0) >= 3_600_000; };
for (const late of [false, true]) { const f = score(outs.filter(fast(late)), (s) => s.heapLeak); console.log(`  fast ${late ? "late " : "start"}: ${f.tp}/${f.leaking} p50 ${d(f.delayP50Ms)} p95 ${d(f.delayP95Ms)}`); }
for (const [lo, hi] of [[2,5],[5,10],[10,25],[25,1e9]] as const) { const f = score(outs.filter((o) => { const r = o.series.heapLeak?.ratePercentPerHour; return r !== undefined && r >= lo && r < hi; }), (s) => s.heapLeak); console.log(`  band ${lo}-${hi}: ${f.recall.toFixed(2)} ${d(f.delayP50Ms)}/${d(f.delayP95Ms)}`); }
const scen = [...new Set(corpus.map((s) => s.scenario))];
console.log("  " + scen.map((name) => { const f = score(outs.filter((o) => o.series.scenario === name), (s) => s.heapLeak); return f.leaking > 0 ? `${name} ${f.tp}/${f.leaking} ${d(f.delayP50Ms)}` : f.fp > 0 ? `${name} fp${f.fp}` : ""; }).filter(Boolean).join("; "));
console.log("  FP: " + outs.filter((o) => o.falseAlarm).map((o) => `${o.series.id}@${o.alarmStarts.map((t) => d(t - (o.series.samples[0]?.t ?? 0))).join(",")}`).join(" "));
sizes.sort((a, b) => a - b);
console.log(`  cost ${(ms * 1000 / n).toFixed(1)} µs/update, state median ${sizes[Math.floor(sizes.length / 2)]} max ${sizes.at(-1)}`);
