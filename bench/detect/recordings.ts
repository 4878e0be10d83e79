// Series recorded from examples/leaky-app (see record.ts), with their labels.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseSeriesCsv } from "../../src/detect/index.ts";
import type { LabelledSeries } from "./corpus/types.ts";

export interface RecordingLabel {
  readonly behaviour: string;
  readonly heapLeaks: boolean;
  readonly goroutinesLeak: boolean;
  /** Recorded against this ceiling (the in-use heap at the container limit). */
  readonly ceilingBytes: number;
  readonly note?: string;
}

export async function loadRecordings(dir: string): Promise<LabelledSeries[]> {
  let labels: Record<string, RecordingLabel>;
  try {
    labels = JSON.parse(await readFile(join(dir, "labels.json"), "utf8")) as Record<string, RecordingLabel>;
  } catch {
    return [];
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith(".csv")).sort();
  const out: LabelledSeries[] = [];
  for (const file of files) {
    const label = labels[file];
    if (label === undefined) continue;
    const samples = parseSeriesCsv(await readFile(join(dir, file), "utf8"));
    const start = samples[0]?.t ?? 0;
    out.push({
      id: `recorded/${file}`,
      scenario: `recorded:${label.behaviour}`,
      origin: "recorded",
      samples,
      heapCeilingBytes: label.ceilingBytes,
      // The leaks run from process start: onset is the first sample.
      heapLeak: label.heapLeaks ? { onsetMs: start, ratePercentPerHour: Number.NaN } : null,
      goroutineLeak: label.goroutinesLeak ? { onsetMs: start, ratePerHour: Number.NaN } : null,
    });
  }
  return out;
}
