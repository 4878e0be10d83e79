// The soak's verdict on the operator's own resource series: a summary (start, end, min, max,
// least-squares slope per hour after warm-up) and, for memory, the project's own growth detector
// run over the samples — a leak detector judged by itself.
import {
  createSeriesState,
  formatBytes,
  observe,
  resolveDetectorConfig,
  type Assessment,
  type DetectorConfig,
} from "../../src/detect/index.ts";

export interface Point {
  t: number;
  v: number;
}

export interface SeriesSummary {
  start: number;
  end: number;
  min: number;
  max: number;
  /** Least-squares slope after warm-up, per hour. */
  slopePerHour: number;
  /** Change from the median of the first steady minute to the median of the last minute. */
  steadyDelta: number;
  samples: number;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export function summarize(points: readonly Point[], warmupMs: number): SeriesSummary {
  const first = points[0];
  const last = points.at(-1);
  if (first === undefined || last === undefined) throw new Error("no samples");
  const steady = points.filter((p) => p.t - first.t >= warmupMs);
  const fit = steady.length >= 2 ? steady : points;
  const mt = fit.reduce((s, p) => s + p.t, 0) / fit.length;
  const mv = fit.reduce((s, p) => s + p.v, 0) / fit.length;
  let num = 0;
  let den = 0;
  for (const p of fit) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  const fitStart = fit[0]?.t ?? first.t;
  const head = fit.filter((p) => p.t - fitStart < 60_000).map((p) => p.v);
  const tail = fit.filter((p) => last.t - p.t < 60_000).map((p) => p.v);
  return {
    start: first.v,
    end: last.v,
    min: Math.min(...points.map((p) => p.v)),
    max: Math.max(...points.map((p) => p.v)),
    slopePerHour: den === 0 ? 0 : (num / den) * 3_600_000,
    steadyDelta: median(tail) - median(head),
    samples: points.length,
  };
}

/**
 * The detector's settings for the operator's memory sampled every `sampleMs`: a window of a
 * third of the run (at least ten samples), the run's warm-up excluded, default thresholds and
 * sensitivity (the same a LeakWatch would use on a service).
 */
export function soakDetectorConfig(sampleMs: number, runMs: number, warmupMs: number): DetectorConfig {
  const windowMs = Math.max(10 * sampleMs, Math.floor(runMs / 3));
  return resolveDetectorConfig({
    sampleIntervalMs: sampleMs,
    windowMs,
    warmupMs,
    cycleMs: Math.max(24 * 3_600_000, 2 * windowMs),
  });
}

/** Feeds every sample to the detector; returns its last assessment. */
export function judge(points: readonly Point[], config: DetectorConfig): Assessment | undefined {
  const state = createSeriesState();
  let last: Assessment | undefined;
  for (const p of points) last = observe(state, { t: p.t, heapInuseBytes: Math.max(0, p.v) }, config);
  return last;
}

export function formatCount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export function formatSummary(name: string, s: SeriesSummary, unit: "bytes" | "count"): string {
  const f = (v: number): string => (unit === "bytes" ? formatBytes(v) : formatCount(v));
  const slope =
    unit === "bytes"
      ? `${formatBytes(Math.abs(s.slopePerHour))}/h`
      : `${formatCount(Math.abs(s.slopePerHour))}/h`;
  const sign = s.slopePerHour < 0 ? "-" : "+";
  const delta = `${s.steadyDelta < 0 ? "-" : "+"}${f(Math.abs(s.steadyDelta))}`;
  return `${name.padEnd(8)} start ${f(s.start).padStart(9)}  end ${f(s.end).padStart(9)}  min ${f(s.min).padStart(9)}  max ${f(s.max).padStart(9)}  slope ${sign}${slope.padStart(10)}  steady Δ ${delta}`;
}
