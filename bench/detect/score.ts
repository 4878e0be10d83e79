// Turns per-sample firing into the benchmark's figures.
import type { LabelledSeries } from "./corpus/types.ts";

const DAY = 86_400_000;

/** What one detector did on one series. */
export interface SeriesOutcome {
  readonly series: LabelledSeries;
  /** Times at which an alarm episode began (a transition into firing). */
  readonly alarmStarts: readonly number[];
  /** First firing time at or after the truth's onset (leaks only). */
  readonly detectedAt: number | null;
  /** Fired on a healthy series, or before the onset of a leak. */
  readonly falseAlarm: boolean;
  /** Episodes counted as false (healthy series, or before onset). */
  readonly falseEpisodes: number;
}

export interface Truth {
  readonly onsetMs: number;
}

export function outcome(
  series: LabelledSeries,
  truth: Truth | null,
  firing: readonly boolean[],
): SeriesOutcome {
  const alarmStarts: number[] = [];
  let detectedAt: number | null = null;
  let falseEpisodes = 0;
  let was = false;
  series.samples.forEach((s, i) => {
    const now = firing[i] === true;
    if (now && !was) {
      alarmStarts.push(s.t);
      if (truth === null || s.t < truth.onsetMs) falseEpisodes++;
    }
    if (now && truth !== null && s.t >= truth.onsetMs && detectedAt === null) detectedAt = s.t;
    was = now;
  });
  return { series, alarmStarts, detectedAt, falseAlarm: falseEpisodes > 0, falseEpisodes };
}

export interface Scores {
  readonly series: number;
  readonly leaking: number;
  readonly tp: number;
  readonly fn: number;
  readonly fp: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly healthyPodDays: number;
  readonly falseAlarmsPerPodDay: number;
  /** 95% upper bound on false alarms per pod-day: rule of three when none were seen. */
  readonly falseAlarmsUpper95: number;
  readonly delayP50Ms: number | null;
  readonly delayP95Ms: number | null;
}

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (pos - lo);
}

function durationOf(series: LabelledSeries): number {
  const first = series.samples[0]?.t ?? 0;
  const last = series.samples[series.samples.length - 1]?.t ?? first;
  return last - first + 60_000;
}

/** `truthOf` picks the truth this table scores (heap or goroutine leaks). */
export function score(
  outcomes: readonly SeriesOutcome[],
  truthOf: (s: LabelledSeries) => Truth | null,
): Scores {
  let tp = 0;
  let fn = 0;
  let fp = 0;
  let leaking = 0;
  let healthyMs = 0;
  let healthyEpisodes = 0;
  const delays: number[] = [];
  for (const o of outcomes) {
    const truth = truthOf(o.series);
    if (o.falseAlarm) fp++;
    if (truth === null) {
      healthyMs += durationOf(o.series);
      healthyEpisodes += o.falseEpisodes;
      continue;
    }
    leaking++;
    if (o.detectedAt !== null) {
      tp++;
      delays.push(o.detectedAt - truth.onsetMs);
    } else {
      fn++;
    }
  }
  delays.sort((a, b) => a - b);
  const precision = tp + fp === 0 ? (leaking === 0 ? 1 : 0) : tp / (tp + fp);
  const recall = leaking === 0 ? 1 : tp / leaking;
  const podDays = healthyMs / DAY;
  return {
    series: outcomes.length,
    leaking,
    tp,
    fn,
    fp,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    healthyPodDays: podDays,
    falseAlarmsPerPodDay: podDays === 0 ? 0 : healthyEpisodes / podDays,
    falseAlarmsUpper95:
      podDays === 0 ? 0 : healthyEpisodes === 0 ? 3 / podDays : poissonUpper95(healthyEpisodes) / podDays,
    delayP50Ms: quantile(delays, 0.5),
    delayP95Ms: quantile(delays, 0.95),
  };
}

/** Exact-enough one-sided 95% Poisson upper bound for k ≥ 1 events (Wilson–Hilferty). */
function poissonUpper95(k: number): number {
  const z = 1.6449;
  const a = k + 1;
  return a * (1 - 1 / (9 * a) + z / (3 * Math.sqrt(a))) ** 3;
}
