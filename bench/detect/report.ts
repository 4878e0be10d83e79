// Prints the benchmark tables.
import { formatDuration } from "../../src/detect/index.ts";
import type { LabelledSeries } from "./corpus/types.ts";
import { score, type Scores, type SeriesOutcome } from "./score.ts";

export interface DetectorRun {
  readonly name: string;
  readonly outcomes: readonly SeriesOutcome[];
}

export interface Report {
  readonly set: string;
  readonly scale: number;
  readonly corpus: readonly LabelledSeries[];
  readonly runs: readonly DetectorRun[];
  readonly goroutines: readonly SeriesOutcome[];
  readonly microsPerUpdate: number;
  readonly updates: number;
  readonly stateBytes: readonly number[];
  readonly tiers: ReadonlyMap<string, number>;
  readonly generatedMs: number;
  readonly totalMs: number;
  readonly listMisses: boolean;
  readonly minGoroutineGrowthPerHour: number;
}

const BANDS: readonly [number, number][] = [
  [2, 5],
  [5, 10],
  [10, 25],
  [25, Infinity],
];

const heapTruth = (s: LabelledSeries): { onsetMs: number } | null => s.heapLeak;
const goroutineTruth = (s: LabelledSeries): { onsetMs: number } | null => s.goroutineLeak;

function d(ms: number | null): string {
  return ms === null ? "-" : formatDuration(ms);
}

function f(x: number, digits = 3): string {
  return x.toFixed(digits);
}

function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join("  "),
    )
    .join("\n");
}

function overallRow(name: string, s: Scores): string[] {
  return [
    name,
    f(s.precision),
    f(s.recall),
    f(s.f1),
    `${s.tp}/${s.leaking}`,
    String(s.fp),
    f(s.falseAlarmsPerPodDay, 4),
    f(s.falseAlarmsUpper95, 4),
    d(s.delayP50Ms),
    d(s.delayP95Ms),
  ];
}

function scenarioCell(s: Scores): string {
  if (s.leaking > 0) return `${s.tp}/${s.leaking} fp${s.fp} ${d(s.delayP50Ms)}/${d(s.delayP95Ms)}`;
  return `fp ${s.fp}/${s.series} (${f(s.falseAlarmsPerPodDay, 3)}/d)`;
}

export function printReport(r: Report): void {
  const out: string[] = [];
  const healthy = r.corpus.filter((s) => s.heapLeak === null);
  const samples = r.corpus.reduce((n, s) => n + s.samples.length, 0);
  const overall = r.runs.map((run) => ({ name: run.name, scores: score(run.outcomes, heapTruth) }));
  const podDays = overall[0]?.scores.healthyPodDays ?? 0;
  out.push(
    `LeakWatch detector benchmark — set "${r.set}" (seeds never used for tuning: ${r.set === "report" ? "yes" : "no, this is the tuning set"}), scale ${r.scale}`,
    `corpus: ${r.corpus.length} series (${r.corpus.filter((s) => s.origin === "recorded").length} recorded from examples/leaky-app), ${samples} samples at 60 s; ` +
      `${healthy.length} heap-healthy series = ${podDays.toFixed(1)} pod-days; ${r.corpus.length - healthy.length} heap-leaking series`,
    "",
    "HEAP — overall (alarm = LeakWatch verdict Leaking / baseline rule firing)",
    table([
      [
        "detector",
        "precision",
        "recall",
        "F1",
        "TP/leaks",
        "FP series",
        "FA/pod-day",
        "FA 95% UB",
        "delay p50",
        "p95",
      ],
      ...overall.map((o) => overallRow(o.name, o.scores)),
    ]),
    "",
    "HEAP — per scenario (leaks: detected/n, fp = alarms before onset, delay p50/p95 from onset; healthy: series with any alarm)",
  );
  const scenarios = [...new Set(r.corpus.map((s) => s.scenario))];
  const rows: string[][] = [["scenario", "n", ...r.runs.map((run) => run.name)]];
  for (const name of scenarios) {
    const n = r.corpus.filter((s) => s.scenario === name).length;
    rows.push([
      name,
      String(n),
      ...r.runs.map((run) =>
        scenarioCell(
          score(
            run.outcomes.filter((o) => o.series.scenario === name),
            heapTruth,
          ),
        ),
      ),
    ]);
  }
  out.push(table(rows), "", "HEAP — recall per leak rate band (% of baseline heap per hour), delay p50/p95");
  const bandRows: string[][] = [["band", "n", ...r.runs.map((run) => run.name)]];
  for (const [lo, hi] of BANDS) {
    const inBand = (o: SeriesOutcome): boolean => {
      const rate = o.series.heapLeak?.ratePercentPerHour;
      return rate !== undefined && rate >= lo && rate < hi;
    };
    const label = hi === Infinity ? `≥${lo}%/h` : `${lo}–${hi}%/h`;
    const count = r.runs[0]?.outcomes.filter(inBand).length ?? 0;
    bandRows.push([
      label,
      String(count),
      ...r.runs.map((run) => {
        const s = score(run.outcomes.filter(inBand), heapTruth);
        return `${f(s.recall, 2)} ${d(s.delayP50Ms)}/${d(s.delayP95Ms)}`;
      }),
    ]);
  }
  out.push(table(bandRows));

  // The delay goal for fast leaks, split by where the leak begins: with the container (it must first
  // be told from a slow warm-up) or after at least an hour of health (it can leave the envelope).
  const fastLeak =
    (late: boolean) =>
    (o: SeriesOutcome): boolean => {
      const truth = o.series.heapLeak;
      if (truth === null || !(truth.ratePercentPerHour >= 10)) return false;
      const start = o.series.samples[0]?.t ?? 0;
      return late === truth.onsetMs - start >= 3_600_000;
    };
  out.push(
    "",
    "HEAP — leaks ≥ 10%/h by onset: recall, delay p50/p95 (from container start | after ≥ 1 h of health)",
    table([
      ["detector", "from start", "late onset"],
      ...r.runs.map((run) => {
        const cell = (late: boolean): string => {
          const s = score(run.outcomes.filter(fastLeak(late)), heapTruth);
          return `${s.tp}/${s.leaking} ${d(s.delayP50Ms)}/${d(s.delayP95Ms)}`;
        };
        return [run.name, cell(false), cell(true)];
      }),
    ]),
  );

  const g = score(r.goroutines, goroutineTruth);
  out.push(
    "",
    "GOROUTINES — LeakWatch only (baselines are heap rules)",
    table([
      [
        "detector",
        "precision",
        "recall",
        "F1",
        "TP/leaks",
        "FP series",
        "FA/pod-day",
        "FA 95% UB",
        "delay p50",
        "p95",
      ],
      overallRow("LeakWatch", g),
    ]),
    (() => {
      const atLeast = score(
        r.goroutines.filter(
          (o) =>
            o.series.goroutineLeak === null ||
            !(o.series.goroutineLeak.ratePerHour < r.minGoroutineGrowthPerHour),
        ),
        goroutineTruth,
      );
      return `goroutine leaks at or above minGoroutineGrowthPerHour (${r.minGoroutineGrowthPerHour}/h): recall ${f(atLeast.recall)} (${atLeast.tp}/${atLeast.leaking}); the others grow more slowly than the configured minimum`;
    })(),
    "",
    `LeakWatch tiers that made the first correct call: ${[...r.tiers.entries()].map(([t, n]) => `${t} ${n}`).join(", ")}`,
  );
  const bytes = [...r.stateBytes].sort((a, b) => a - b);
  out.push(
    "",
    `cost: ${r.microsPerUpdate.toFixed(1)} µs per update (mean over ${r.updates} updates, default 2 h window, heap + goroutines); ` +
      `state per series (JSON): median ${bytes[Math.floor(bytes.length / 2)] ?? 0} B, max ${bytes[bytes.length - 1] ?? 0} B`,
    `time: corpus ${(r.generatedMs / 1000).toFixed(1)} s, total ${(r.totalMs / 1000).toFixed(1)} s`,
  );
  if (r.listMisses) {
    const lw = r.runs[0];
    if (lw !== undefined) {
      out.push("", "LeakWatch mistakes:");
      for (const o of lw.outcomes) {
        if (o.falseAlarm)
          out.push(
            `  false alarm ${o.series.id} at ${o.alarmStarts.map((t) => d(t - (o.series.samples[0]?.t ?? 0))).join(",")}`,
          );
        else if (o.series.heapLeak !== null && o.detectedAt === null) {
          out.push(
            `  missed ${o.series.id} rate ${o.series.heapLeak.ratePercentPerHour.toFixed(1)}%/h onset +${d(o.series.heapLeak.onsetMs - (o.series.samples[0]?.t ?? 0))} len ${d((o.series.samples.at(-1)?.t ?? 0) - (o.series.samples[0]?.t ?? 0))}`,
          );
        }
      }
      for (const o of r.goroutines) {
        if (o.falseAlarm) out.push(`  goroutine false alarm ${o.series.id}`);
        else if (o.series.goroutineLeak !== null && o.detectedAt === null)
          out.push(`  goroutine missed ${o.series.id}`);
      }
    }
  }
  process.stdout.write(`${out.join("\n")}\n`);
}
