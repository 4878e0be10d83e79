import { createSeriesState, formatBytes, formatDuration, observe, resolveDetectorConfig } from "../../src/detect/index.ts";
import { generateCorpus, type CorpusSet } from "./corpus/generate.ts";
const id = process.argv[2] ?? "";
const every = Number(process.argv[3] ?? "15");
const [set, scenario, index] = id.split("/");
const series = generateCorpus(set as CorpusSet, 1).find((s) => s.scenario === scenario && s.id.endsWith(`/${index ?? ""}`));
if (series === undefined) throw new Error("none");
const start = series.samples[0]?.t ?? 0;
console.log(id, JSON.stringify(series.heapLeak), formatBytes(series.heapCeilingBytes));
const config = resolveDetectorConfig({ heapCeilingBytes: series.heapCeilingBytes });
const state = createSeriesState();
let k = 0;
for (const sample of series.samples) {
  const a = observe(state, sample, config);
  if (k++ % every === 0 || sample.restart === true)
    console.log(`+${formatDuration(sample.t - start).padEnd(7)} ${formatBytes(sample.heapInuseBytes).padStart(9)} ${a.heap.verdict}${a.heap.tier ? "/" + a.heap.tier : ""} ${a.heap.slopePercentPerHour?.toFixed(1)}%/h ${a.heap.reasons.join(" | ")}`);
}
