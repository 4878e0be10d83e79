// Builds a LeakWatch's status from what the scrapes found. Pure. Figures are rounded (two
// significant digits, coarse durations) and nothing per-scrape goes in, so the status object changes
// only when something a person would notice changes — and is written only then.
import { roundDuration } from "../api/duration.ts";
import { roundQuantity } from "../api/quantity.ts";
import type {
  CaptureRef,
  Condition,
  LeakWatchStatus,
  PodReport,
  RestartRecord,
  Verdict,
  WorkloadReport,
} from "../api/types.ts";
import type { SkippedPod, Target } from "./targets.ts";

export const MAX_POD_ROWS = 20;
export const MAX_WORKLOAD_ROWS = 20;

export interface MetricView {
  verdict: Verdict;
  tier: string | null;
  slopePerHour: number | null;
  slopePercentPerHour: number | null;
  timeToCeilingMs: number | null;
}

/** What the status needs to know about one target. */
export interface TargetView {
  target: Target;
  heap: MetricView | undefined;
  goroutines: MetricView | undefined;
  heapBytes: number | undefined;
  goroutineCount: number | undefined;
  /** Set while scrapes fail (after the first failure). */
  failing: { error: string; failures: number } | undefined;
  /** The heap was read but something else was not (the goroutine profile). */
  problem: string | undefined;
}

export type WatchPhase =
  | { kind: "Watching" }
  | { kind: "Suspended" }
  | { kind: "InvalidSpec"; message: string }
  | { kind: "WaitingForPods"; message: string };

export interface StatusInput {
  generation: number | undefined;
  phase: WatchPhase;
  views: readonly TargetView[];
  skipped: readonly SkippedPod[];
  captures: readonly CaptureRef[];
  restarts: readonly RestartRecord[];
  previousConditions: readonly Condition[] | undefined;
  now: Date;
}

/**
 * A target is as bad as the worse of its heap and goroutine verdicts; the goroutine verdict only
 * raises it (a target whose heap is still Collecting is Collecting, whatever its goroutines say,
 * unless they are Suspected or Leaking).
 */
export function overallVerdict(view: TargetView): Verdict {
  const heap = view.heap?.verdict ?? "Collecting";
  const goroutines = view.goroutines?.verdict;
  if (goroutines === "Leaking" || (goroutines === "Suspected" && heap !== "Leaking")) return goroutines;
  return heap;
}

function severity(view: TargetView): number {
  const verdict = overallVerdict(view);
  if (verdict === "Leaking") return 4;
  if (verdict === "Suspected") return 3;
  if (view.failing !== undefined) return 2;
  return verdict === "Collecting" || view.problem !== undefined ? 1 : 0;
}

function twoDigits(n: number): number {
  if (n === 0) return 0;
  const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(Math.abs(n))) - 1);
  return Math.round(n / magnitude) * magnitude;
}

export function podReport(view: TargetView): PodReport {
  const { target, heap } = view;
  const verdict =
    view.failing !== undefined && (heap === undefined || heap.verdict === "Collecting")
      ? "Failing"
      : overallVerdict(view);
  const report: PodReport = { pod: target.pod, container: target.container, verdict };
  if (target.workload !== undefined) report.workload = `${target.workload.kind}/${target.workload.name}`;
  if (view.goroutines !== undefined && view.goroutines.verdict !== "Collecting")
    report.goroutineVerdict = view.goroutines.verdict;
  const tier = heap?.tier ?? view.goroutines?.tier;
  if (tier !== null && tier !== undefined) report.tier = tier;
  if (view.heapBytes !== undefined) report.heap = roundQuantity(view.heapBytes);
  if (heap?.slopePerHour !== null && heap?.slopePerHour !== undefined && heap.verdict !== "Healthy") {
    report.growthPerHour = `${roundQuantity(heap.slopePerHour)}/h`;
  }
  if (
    heap?.slopePercentPerHour !== null &&
    heap?.slopePercentPerHour !== undefined &&
    heap.verdict !== "Healthy"
  ) {
    report.growthPercentPerHour = Math.round(heap.slopePercentPerHour);
  }
  if (view.goroutineCount !== undefined) report.goroutines = twoDigits(view.goroutineCount);
  if (heap?.timeToCeilingMs !== null && heap?.timeToCeilingMs !== undefined && heap.verdict !== "Healthy") {
    report.timeToLimit = roundDuration(heap.timeToCeilingMs);
  }
  if (target.restartCount > 0) report.restarts = target.restartCount;
  if (target.lastTerminationReason !== undefined) report.lastTerminationReason = target.lastTerminationReason;
  const error = view.failing?.error ?? view.problem;
  if (error !== undefined) report.lastError = error.slice(0, 500);
  return report;
}

/** Image references have no length limit in a pod spec; status keeps their two ends. */
export const MAX_IMAGE_CHARS = 256;

function boundedImage(image: string): string {
  if (image.length <= MAX_IMAGE_CHARS) return image;
  const half = (MAX_IMAGE_CHARS - 1) / 2;
  return `${image.slice(0, Math.floor(half))}…${image.slice(-Math.ceil(half))}`;
}

function workloadReports(views: readonly TargetView[]): WorkloadReport[] {
  const groups = new Map<string, WorkloadReport>();
  for (const view of views) {
    const w = view.target.workload ?? { kind: "Pod", name: view.target.pod };
    const image = boundedImage(view.target.image);
    const key = `${w.kind}/${w.name}/${image}`;
    const row = groups.get(key) ?? {
      kind: w.kind,
      name: w.name,
      image,
      pods: 0,
      suspected: 0,
      leaking: 0,
    };
    row.pods++;
    const verdict = overallVerdict(view);
    if (verdict === "Suspected") row.suspected++;
    if (verdict === "Leaking") row.leaking++;
    const pct = view.heap?.slopePercentPerHour;
    if ((verdict === "Suspected" || verdict === "Leaking") && pct !== null && pct !== undefined) {
      row.maxGrowthPercentPerHour = Math.max(row.maxGrowthPercentPerHour ?? 0, Math.round(pct));
    }
    groups.set(key, row);
  }
  return [...groups.values()]
    .sort(
      (a, b) =>
        b.leaking - a.leaking || b.suspected - a.suspected || b.pods - a.pods || a.name.localeCompare(b.name),
    )
    .slice(0, MAX_WORKLOAD_ROWS);
}

/** metav1.Condition semantics: lastTransitionTime moves only when status flips. */
export function setCondition(
  previous: readonly Condition[] | undefined,
  next: Omit<Condition, "lastTransitionTime">,
  now: Date,
): Condition {
  const old = previous?.find((c) => c.type === next.type);
  const lastTransitionTime =
    old !== undefined && old.status === next.status
      ? old.lastTransitionTime
      : now.toISOString().replace(/\.\d{3}Z$/, "Z");
  return { ...next, lastTransitionTime };
}

export function buildStatus(input: StatusInput): LeakWatchStatus {
  const { views, now, generation } = input;
  const counts = { watched: views.length, collecting: 0, healthy: 0, suspected: 0, leaking: 0, failing: 0 };
  for (const view of views) {
    if (view.failing !== undefined) counts.failing++;
    const verdict = overallVerdict(view);
    if (verdict === "Collecting") counts.collecting++;
    else if (verdict === "Healthy") counts.healthy++;
    else if (verdict === "Suspected") counts.suspected++;
    else counts.leaking++;
  }
  const worst = [...views]
    .filter((v) => severity(v) > 0)
    .sort(
      (a, b) =>
        severity(b) - severity(a) ||
        (b.heap?.slopePercentPerHour ?? 0) - (a.heap?.slopePercentPerHour ?? 0) ||
        a.target.key.localeCompare(b.target.key),
    )
    .slice(0, MAX_POD_ROWS)
    .map(podReport);
  const obs = generation === undefined ? {} : { observedGeneration: generation };
  const ready = readyCondition(input, counts.watched);
  const leaking = views.filter((v) => overallVerdict(v) === "Leaking");
  const leakCondition = setCondition(
    input.previousConditions,
    leaking.length > 0
      ? {
          type: "LeakDetected",
          status: "True",
          reason: leaking.some((v) => v.heap?.verdict === "Leaking") ? "MemoryLeak" : "GoroutineLeak",
          message: `leaking: ${leaking
            .slice(0, 5)
            .map((v) => v.target.pod)
            .join(", ")}${leaking.length > 5 ? ` and ${leaking.length - 5} more` : ""}`,
          ...obs,
        }
      : { type: "LeakDetected", status: "False", reason: "NoLeak", message: "no pod is leaking", ...obs },
    now,
  );
  const degraded = setCondition(
    input.previousConditions,
    counts.failing > 0
      ? {
          type: "ScrapesFailing",
          status: "True",
          reason: "ScrapeFailing",
          message: `${counts.failing} of ${counts.watched} pods cannot be scraped; see status.pods[].lastError`,
          ...obs,
        }
      : {
          type: "ScrapesFailing",
          status: "False",
          reason: "ScrapesSucceeding",
          message: "all watched pods answer",
          ...obs,
        },
    now,
  );
  return {
    ...obs,
    conditions: [setCondition(input.previousConditions, { ...ready, ...obs }, now), leakCondition, degraded],
    ...counts,
    pods: worst,
    workloads: workloadReports(views),
    captures: [...input.captures],
    restarts: [...input.restarts],
  };
}

function readyCondition(input: StatusInput, watched: number): Omit<Condition, "lastTransitionTime"> {
  const { phase, skipped } = input;
  switch (phase.kind) {
    case "InvalidSpec":
      return { type: "Ready", status: "False", reason: "InvalidSpec", message: phase.message };
    case "Suspended":
      return {
        type: "Ready",
        status: "False",
        reason: "Suspended",
        message: "spec.suspend is true: no scraping, no actions",
      };
    case "WaitingForPods":
      return { type: "Ready", status: "False", reason: "WaitingForPods", message: phase.message };
    case "Watching": {
      const skippedNote =
        skipped.length === 0
          ? ""
          : `; ${skipped.length} opted-in pod(s) skipped: ${skipped
              .slice(0, 3)
              .map((s) => `${s.pod} (${s.reason})`)
              .join("; ")}`;
      return {
        type: "Ready",
        status: "True",
        reason: watched > 0 ? "Watching" : "NoTargets",
        message:
          (watched > 0
            ? `watching ${watched} container(s)`
            : "no opted-in running pod matches the selector") + skippedNote,
      };
    }
  }
}
