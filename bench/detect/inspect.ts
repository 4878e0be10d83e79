// Prints one corpus series' verdict timeline: `node bench/detect/inspect.ts tune/step-up/3 [--csv]`.
import { parseArgs } from "node:util";
import {
  createSeriesState,
  formatBytes,
  formatDuration,
  formatSeriesCsv,
  observe,
  resolveDetectorConfig,
} from "../../src/detect/index.ts";
import { generateCorpus, type CorpusSet } from "./corpus/generate.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { csv: { type: "boolean", default: false } },
});
const id = positionals[0] ?? "";
const [set, scenario, index] = id.split("/");
const series = generateCorpus(set as CorpusSet, 1).find(
  (s) => s.scenario === scenario && s.id.endsWith(`/${index ?? ""}`),
);
if (series === undefined) throw new Error(`no series ${id}`);
if (values.csv) {
  process.stdout.write(formatSeriesCsv(series.samples));
} else {
  const start = series.samples[0]?.t ?? 0;
  console.log(
    `${id}: ceiling ${formatBytes(series.heapCeilingBytes)}, truth ${JSON.stringify(series.heapLeak)} onset +${series.heapLeak === null ? "-" : formatDuration(series.heapLeak.onsetMs - start)}`,
  );
  const config = resolveDetectorConfig({ heapCeilingBytes: series.heapCeilingBytes });
  const state = createSeriesState();
  let previous = "";
  for (const sample of series.samples) {
    const a = observe(state, sample, config);
    const line = `${a.heap.verdict}${a.heap.tier === null ? "" : `/${a.heap.tier}`}`;
    if (line !== previous || sample.restart === true) {
      console.log(
        `+${formatDuration(sample.t - start).padEnd(7)} ${formatBytes(sample.heapInuseBytes).padStart(9)} ${line.padEnd(16)} ${a.heap.slopePercentPerHour?.toFixed(1) ?? "-"}%/h ${a.heap.reasons.join(" | ")}${sample.restart === true ? " [restart]" : ""}`,
      );
      previous = line;
    }
  }
}
