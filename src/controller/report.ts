// The words on-call reads: the capture's report (text and JSON) and the Event notes. Pure.
import { formatDuration } from "../api/duration.ts";
import type { MetricAssessment } from "../detect/index.ts";
import {
  diffGoroutines,
  diffHeap,
  formatBytes,
  formatRelative,
  renderGoroutineDiffText,
  renderGoroutinesText,
  renderHeapDiffText,
  siteName,
  type GoroutineDiff,
  type GoroutineSummary,
  type HeapDiff,
  type HeapSummary,
} from "../profile/index.ts";
import type { Target } from "./targets.ts";

export interface LeakReportInput {
  target: Target;
  heap: MetricAssessment;
  goroutines: MetricAssessment | undefined;
  windowMs: number;
  /** The compact baseline from the start of the window, and when it was taken. */
  baseline: { summary: HeapSummary; at: number } | undefined;
  current: HeapSummary;
  goroutineSummary: GoroutineSummary | undefined;
  /** Goroutines from when suspicion began, if kept (for the goroutine diff). */
  goroutineBaseline: GoroutineSummary | undefined;
  goroutineLeak: GoroutineSummary | undefined;
  now: number;
}

export interface LeakReport {
  headline: string;
  heapDiff: HeapDiff | undefined;
  goroutineDiff: GoroutineDiff | undefined;
  text: string;
  json: string;
}

const TOP_ROWS = 10;

export function rateText(a: MetricAssessment, unit: "bytes" | "goroutines"): string {
  const rate =
    a.slopePerHour === null
      ? "unknown rate"
      : unit === "bytes"
        ? `${a.slopePerHour >= 0 ? "+" : ""}${formatBytes(a.slopePerHour)}/h`
        : `${a.slopePerHour >= 0 ? "+" : ""}${Math.round(a.slopePerHour)} goroutines/h`;
  const pct = a.slopePercentPerHour === null ? "" : ` (${formatRelative(a.slopePercentPerHour / 100)}/h)`;
  return rate + pct;
}

/** "fast tier, confidence 99.9%, growing for 1h10m; limit in ~3h". */
export function evidenceText(a: MetricAssessment): string {
  const parts = [
    a.tier === null ? undefined : `${a.tier} tier`,
    `confidence ${(a.confidence * 100).toFixed(a.confidence >= 0.99 ? 1 : 0)}%`,
    a.growingForMs > 0 ? `growing for ${formatDuration(a.growingForMs)}` : undefined,
  ].filter((p): p is string => p !== undefined);
  const limit = a.timeToCeilingMs === null ? "" : `; memory limit in ~${formatDuration(a.timeToCeilingMs)}`;
  return parts.join(", ") + limit;
}

export function buildLeakReport(input: LeakReportInput): LeakReport {
  const heapDiff =
    input.baseline === undefined
      ? undefined
      : diffHeap(input.baseline.summary, input.current, { top: TOP_ROWS });
  const goroutineDiff =
    input.goroutineSummary !== undefined && input.goroutineBaseline !== undefined
      ? diffGoroutines(input.goroutineBaseline, input.goroutineSummary, { top: TOP_ROWS })
      : undefined;
  const heapLeaking = input.heap.verdict === "Leaking";
  const headline = heapLeaking
    ? (heapDiff?.headline ?? `heap ${rateText(input.heap, "bytes")}`)
    : (goroutineDiff?.headline ?? `goroutines ${rateText(input.goroutines ?? input.heap, "goroutines")}`);
  const t = input.target;
  const lines = [
    `LeakWatch report for ${t.namespace}/${t.pod} container ${t.container}${t.workload === undefined ? "" : ` (${t.workload.kind}/${t.workload.name})`}`,
    `image: ${t.image}`,
    `taken: ${new Date(input.now).toISOString()}`,
    "",
    `heap: ${input.heap.verdict} — ${rateText(input.heap, "bytes")}; ${evidenceText(input.heap)}`,
    ...input.heap.reasons.map((r) => `  - ${r}`),
  ];
  if (input.goroutines !== undefined) {
    lines.push(
      `goroutines: ${input.goroutines.verdict} — ${rateText(input.goroutines, "goroutines")}; ${evidenceText(input.goroutines)}`,
    );
    lines.push(...input.goroutines.reasons.map((r) => `  - ${r}`));
  }
  lines.push("");
  if (heapDiff !== undefined && input.baseline !== undefined) {
    lines.push(
      `What grew since ${new Date(input.baseline.at).toISOString()} (${formatDuration(input.now - input.baseline.at)} ago):`,
    );
    lines.push(renderHeapDiffText(heapDiff).trimEnd());
  } else {
    lines.push(
      "No baseline yet (the target was just discovered or restarted): see heap.pb.gz with go tool pprof -top.",
    );
  }
  if (goroutineDiff !== undefined) {
    lines.push("", "Goroutines that piled up:", renderGoroutineDiffText(goroutineDiff).trimEnd());
  } else if (input.goroutineSummary !== undefined) {
    lines.push(
      "",
      "Goroutines by blocking site:",
      renderGoroutinesText(input.goroutineSummary, TOP_ROWS).trimEnd(),
    );
  }
  if (input.goroutineLeak !== undefined) {
    lines.push(
      "",
      "Goroutines the runtime proved leaked (goroutineleak profile):",
      renderGoroutinesText(input.goroutineLeak, TOP_ROWS).trimEnd(),
    );
  }
  const json = JSON.stringify({
    kind: "LeakReport",
    version: 1,
    target: {
      namespace: t.namespace,
      pod: t.pod,
      container: t.container,
      workload: t.workload,
      image: t.image,
    },
    time: new Date(input.now).toISOString(),
    headline,
    heap: input.heap,
    goroutines: input.goroutines,
    baselineTime: input.baseline === undefined ? undefined : new Date(input.baseline.at).toISOString(),
    heapDiff,
    goroutineDiff,
  });
  return { headline, heapDiff, goroutineDiff, text: `${lines.join("\n")}\n`, json };
}

/** The commands that fetch a capture and open it, for notes and the CLI; `dir` defaults to ./NAME. */
export function captureCommands(
  namespace: string,
  capture: string,
  hasBase: boolean,
  dir = `./${capture}`,
): { fetch: string; open: string } {
  const fetch = `kubectl leakwatch captures get ${capture} -n ${namespace} -o ${dir}`;
  const open = hasBase
    ? `go tool pprof -http=: -base ${dir}/base-heap.pb.gz ${dir}/heap.pb.gz`
    : `go tool pprof -http=: ${dir}/heap.pb.gz`;
  return { fetch, open };
}

/** The Event note for a confirmed heap leak: useful on its own, within 1024 bytes. */
export function leakEventNote(args: {
  target: Target;
  heap: MetricAssessment;
  windowMs: number;
  heapDiff: HeapDiff | undefined;
  capture: string | undefined;
  captureProblem: string | undefined;
}): string {
  const { target, heap, heapDiff } = args;
  const top = (heapDiff?.rows ?? [])
    .slice(0, 3)
    .map(
      (r) =>
        `${siteName(r)} ${r.deltaBytes >= 0 ? "+" : ""}${formatBytes(r.deltaBytes)}${r.relative === null ? " (new)" : ` (${formatRelative(r.relative)})`}`,
    );
  const parts = [
    `Heap of ${target.pod}/${target.container} grows ${rateText(heap, "bytes")} over the ${formatDuration(args.windowMs)} window: ${evidenceText(heap)}.`,
    top.length > 0 ? `Top growth: ${top.join("; ")}.` : "",
    args.capture !== undefined
      ? `Capture ${args.capture}: ${captureCommands(target.namespace, args.capture, true).fetch}`
      : "",
    args.captureProblem !== undefined ? `No capture: ${args.captureProblem}.` : "",
  ];
  return parts.filter((p) => p !== "").join(" ");
}

export function goroutineEventNote(args: {
  target: Target;
  goroutines: MetricAssessment;
  summary: GoroutineSummary | undefined;
  capture: string | undefined;
}): string {
  const groups =
    args.summary === undefined
      ? ""
      : ` Parked: ${renderGoroutinesText(args.summary, 3)
          .split("\n")
          .slice(1, 4)
          .map((l) => l.trim())
          .filter(Boolean)
          .join("; ")}.`;
  const capture =
    args.capture === undefined
      ? ""
      : ` Capture ${args.capture}: ${captureCommands(args.target.namespace, args.capture, false).fetch}`;
  return `Goroutines of ${args.target.pod}/${args.target.container} grow ${rateText(args.goroutines, "goroutines")}: ${evidenceText(args.goroutines)}.${groups}${capture}`;
}

export function suspectedEventNote(target: Target, heap: MetricAssessment): string {
  return `Heap of ${target.pod}/${target.container} may be leaking: ${rateText(heap, "bytes")}, ${evidenceText(heap)}. Not an alarm yet; LeakWatch keeps watching. ${heap.reasons.slice(0, 2).join(" ")}`;
}
