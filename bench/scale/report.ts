// The scale benchmark's table: one column per scale, one row per figure, and the goals checked
// against the largest scale measured.
import { cpus, loadavg } from "node:os";
import type { WindowFigures } from "./measure.ts";

export interface ScaleResult {
  scale: number;
  /** Targets the operator reported watching at the window's end. */
  watched: number;
  warmupS: number;
  window: WindowFigures;
  rssEnd: number;
  rssMean: number;
  rssPeakWindow: number;
  rssAfterGc: number;
  /** V8 heap used right after a forced full GC. */
  liveHeap: number;
  /** ArrayBuffers held right after that GC (outside the V8 heap). */
  liveArrayBuffers: number;
}

/** What the targets hold: the live V8 heap and the ArrayBuffers outside it, after a full GC. */
const liveMemory = (r: ScaleResult): number => r.liveHeap + r.liveArrayBuffers;

export interface ReportOptions {
  intervalS: number;
  windowS: number;
  smallBytes: readonly number[];
  largeBytes: readonly number[];
  profiling: boolean;
  /** How the operator ran: entry point and Node flags. */
  operator: string;
  /** Hours of detector history each target started with. */
  historyHours: number;
  /** budget.ts's steady-state total per target (both diff baselines, an hour of live samples). */
  budgetBytesPerTarget: number;
  /**
   * What the second diff baseline weighs in the budget: a run shorter than half a window holds one
   * baseline per target, a long-running operator two.
   */
  secondBaselineBytesPerTarget: number;
}

const GOAL_TARGETS = 5_000;
const GOAL_CORES = 1;
const GOAL_RSS = 512 * 1024 * 1024;
const GOAL_PER_TARGET = 16 * 1024;

const MiB = (n: number): string => (n / (1 << 20)).toFixed(1);
const KiB = (n: number): string => (n / 1024).toFixed(1);
const int = (n: number): string => Math.round(n).toLocaleString("en-US");
const fixed = (digits: number) => (n: number | undefined) =>
  n === undefined || Number.isNaN(n) ? "-" : n.toFixed(digits);

function range(sizes: readonly number[]): string {
  return `${KiB(Math.min(...sizes))}–${KiB(Math.max(...sizes))} KiB`;
}

export function printReport(results: readonly ScaleResult[], o: ReportOptions): string {
  const rows: [string, ...string[]][] = [];
  const row = (label: string, cell: (r: ScaleResult, i: number) => string, goal = ""): void => {
    rows.push([label, ...results.map(cell), goal]);
  };
  const perTargetDelta = (r: ScaleResult, i: number, pick: (r: ScaleResult) => number): string => {
    const prev = results[i - 1];
    if (prev === undefined) return "-";
    return KiB((pick(r) - pick(prev)) / (r.scale - prev.scale));
  };

  row("watched targets", (r) => int(r.watched));
  row("warm-up until all scraped 2× (s)", (r) => int(r.warmupS));
  row("scrapes/min (heap; goroutine too)", (r) => int(r.window.scrapesPerMin));
  row("  failed scrapes/min", (r) => int(r.window.scrapeFailuresPerMin));
  row("  heap profiles served/min (fleet)", (r) => int(r.window.fleetProfilesPerMin));
  row("  profile MiB served/min (fleet)", (r) => fixed(1)(r.window.fleetMiBPerMin));
  row("CPU per scrape (ms, process CPU)", (r) => fixed(2)(r.window.cpuMsPerScrape));
  row(
    "CPU utilisation (cores)",
    (r) => fixed(3)(r.window.cpuCores),
    `≤ ${GOAL_CORES} at ${int(GOAL_TARGETS)}`,
  );
  row("RSS, mean over window (MiB)", (r) => MiB(r.rssMean));
  row("RSS, peak in window (MiB)", (r) => MiB(r.rssPeakWindow), `≤ ${MiB(GOAL_RSS)} at ${int(GOAL_TARGETS)}`);
  row("V8 heap used, window end (MiB)", (r) => MiB(r.window.heapUsedEnd));
  row("V8 heap reserved, window end (MiB)", (r) => MiB(r.window.heapTotalEnd));
  row("external (Buffers), window end (MiB)", (r) => MiB(r.window.externalEnd));
  row("V8 live heap after full GC (MiB)", (r) => MiB(r.liveHeap));
  row("ArrayBuffers after full GC (MiB)", (r) => MiB(r.liveArrayBuffers));
  row("RSS after full GC (MiB)", (r) => MiB(r.rssAfterGc));
  row("live memory / target, absolute (KiB)", (r) => KiB(liveMemory(r) / r.scale));
  row("Δ live heap / Δ targets (KiB)", (r, i) => perTargetDelta(r, i, (x) => x.liveHeap));
  row(
    "Δ live memory / Δ targets (KiB, heap + ArrayBuffers)",
    (r, i) => perTargetDelta(r, i, liveMemory),
    `< ${KiB(GOAL_PER_TARGET)}`,
  );
  row("Δ RSS after GC / Δ targets (KiB)", (r, i) => perTargetDelta(r, i, (x) => x.rssAfterGc));
  row("API reads/min (GET, LIST)", (r) => fixed(1)(r.window.api.readsPerMin));
  row("API watches/min (WATCH)", (r) => fixed(1)(r.window.api.watchesPerMin));
  row("API writes/min", (r) => fixed(1)(r.window.api.writesPerMin), "flat while scrapes/min grow");
  row("  written MiB/min (request bodies)", (r) => fixed(2)(r.window.api.writeBytesPerMin / (1 << 20)));
  const writeKeys = [...new Set(results.flatMap((r) => Object.keys(r.window.api.writes)))].sort();
  for (const key of writeKeys) row(`  ${key}`, (r) => fixed(1)(r.window.api.writes[key] ?? 0));
  row("  API writes per 1,000 scrapes", (r) =>
    fixed(2)((1000 * r.window.api.writesPerMin) / Math.max(1, r.window.scrapesPerMin)),
  );
  const kinds = [...new Set(results.flatMap((r) => Object.keys(r.window.operatorWritesPerMin)))].sort();
  for (const kind of kinds)
    row(`  operator-counted ${kind} writes/min`, (r) => fixed(1)(r.window.operatorWritesPerMin[kind] ?? 0));
  row("schedule lag p50 (s)", (r) => fixed(3)(r.window.lagP50));
  row("schedule lag p99 (s)", (r) => fixed(3)(r.window.lagP99));
  row("  p99 lies in bucket", (r) => r.window.lagP99Bucket);

  const header: [string, ...string[]] = ["", ...results.map((r) => `${int(r.scale)} targets`), "goal"];
  const table = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...table.map((line) => (line[c] ?? "").length)));
  const render = (line: readonly string[]): string =>
    line
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join("  ")
      .trimEnd();

  const out = [
    "",
    `LeakWatch scale benchmark — node ${process.version}, ${cpus().length} CPUs (load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")})`,
    `operator: ${o.operator}; interval ${o.intervalS} s, measurement window ${o.windowS} s per scale,`,
    `one fresh operator process per scale; ${o.historyHours > 0 ? `every target starts with ${o.historyHours} h of detector history (restored from its state ConfigMaps);` : "every target starts with a fresh series;"}`,
    `heap profiles: 9 in 10 targets ${range(o.smallBytes)}, 1 in 10 ${range(o.largeBytes)} gzipped (real Go profiles),`,
    "plus a goroutine profile per scrape. CPU is process CPU (user + system, all threads) from /proc.",
    ...(o.profiling ? ["A profiler was attached: CPU and memory figures include its overhead."] : []),
    "",
    render(header),
    ...rows.map(render),
    "",
    ...goals(results, o),
  ];
  return out.join("\n");
}

function goals(results: readonly ScaleResult[], options: ReportOptions): string[] {
  const last = results[results.length - 1];
  if (last === undefined) return [];
  const lines = [
    `Goals (checked at ${int(last.scale)} targets${last.scale < GOAL_TARGETS ? ", below the goal's 5,000" : ""}):`,
  ];
  const verdict = (ok: boolean): string => (ok ? "met   " : "MISSED");
  lines.push(
    `  ${verdict(last.window.cpuCores <= GOAL_CORES)} within one core: ${last.window.cpuCores.toFixed(3)} cores`,
  );
  lines.push(
    `  ${verdict(last.rssPeakWindow <= GOAL_RSS)} within 512 MiB: peak RSS ${MiB(last.rssPeakWindow)} MiB`,
  );
  // Per target: the live memory's growth between the smallest and largest scale, and the budget's
  // steady state (both diff baselines, an hour of live samples), which a short run cannot reach.
  const first = results[0];
  const measured =
    first !== undefined && first !== last
      ? (liveMemory(last) - liveMemory(first)) / (last.scale - first.scale)
      : undefined;
  const budget = options.budgetBytesPerTarget;
  const second = options.secondBaselineBytesPerTarget;
  // The run's own figure plus the baseline it is too short to hold: what a long-running replica holds.
  const steady = measured === undefined ? undefined : measured + second;
  lines.push(
    `  ${verdict(Math.max(steady ?? 0, budget) < GOAL_PER_TARGET)} under 16 KiB per target: ` +
      (measured === undefined || steady === undefined || first === undefined
        ? ""
        : `live heap + ArrayBuffers +${KiB(measured)} KiB per added target (${int(first.scale)} → ${int(last.scale)}, ` +
          `one diff baseline each), +${KiB(steady)} KiB with the second baseline (+${KiB(second)}, weighed by the budget); `) +
      `steady-state budget ${KiB(budget)} KiB`,
  );
  if (first !== undefined && first !== last) {
    // "Independent": roughly flat (within 2×) while scrapes/min grow with the scale.
    const scrapeRatio = last.window.scrapesPerMin / Math.max(1, first.window.scrapesPerMin);
    const writeRatio = last.window.api.writesPerMin / Math.max(0.1, first.window.api.writesPerMin);
    lines.push(
      `  ${verdict(writeRatio <= 2)} API writes independent of scrapes (flat within 2×): scrapes/min ×${scrapeRatio.toFixed(1)}, ` +
        `writes/min ${first.window.api.writesPerMin.toFixed(1)} → ${last.window.api.writesPerMin.toFixed(1)} (×${writeRatio.toFixed(1)})`,
    );
  }
  return lines;
}
