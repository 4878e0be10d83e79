// What LeakWatch does about a verdict, level-triggered: after every scrape, each target's episode
// is compared with its verdict, and whatever is still owed (an event, a capture) is done once.
// A snoozed pod gets nothing until its snooze ends — and then gets what is still owed.
import { API_VERSION, KIND } from "../api/group.ts";
import type { CaptureRef } from "../api/types.ts";
import type { CaptureStore } from "../kube/captures.ts";
import { toCaptureRef } from "../kube/captures.ts";
import type { EventInput, EventRecorder, ObjectRef } from "../kube/events.ts";
import type { Logger } from "../kube/logger.ts";
import { newEpisode } from "./episode.ts";
import type { ControllerMetrics } from "./metrics.ts";
import {
  buildLeakReport,
  goroutineEventNote,
  leakEventNote,
  rateText,
  suspectedEventNote,
} from "./report.ts";
import type { Target } from "./targets.ts";
import type { ScrapeResult, TargetWatch } from "./target-watch.ts";

export interface LeakWatchRef {
  namespace: string;
  name: string;
  uid: string;
}

/** Consecutive failed scrapes before a ScrapeFailing warning. */
export const FAILURES_BEFORE_WARNING = 3;

export interface ActionContext {
  leakWatch: LeakWatchRef;
  windowMs: number;
  captureMaxBytes: number;
  captureKeep: number;
  events: EventRecorder;
  captures: CaptureStore;
  metrics: ControllerMetrics;
  logger: Logger;
  now: () => number;
  /** Called with the LeakWatch's captures after a save and prune, for status. */
  onCaptures: (refs: CaptureRef[]) => void;
}

export function podRef(t: Target): ObjectRef {
  return { apiVersion: "v1", kind: "Pod", namespace: t.namespace, name: t.pod, uid: t.podUID };
}

export function workloadRef(t: Target): ObjectRef | undefined {
  if (t.workload === undefined) return undefined;
  const apiVersion = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"].includes(t.workload.kind)
    ? "apps/v1"
    : (t.owner?.apiVersion ?? "v1");
  return { apiVersion, kind: t.workload.kind, namespace: t.namespace, name: t.workload.name };
}

export function leakWatchObjectRef(lw: LeakWatchRef): ObjectRef {
  return { apiVersion: API_VERSION, kind: KIND, namespace: lw.namespace, name: lw.name, uid: lw.uid };
}

async function emit(ctx: ActionContext, input: EventInput): Promise<void> {
  const outcome = await ctx.events.record(input);
  if (outcome.result !== "failed") ctx.metrics.events.inc({ reason: input.reason });
  else ctx.logger.warn({ reason: input.reason, err: outcome.error.message }, "event not recorded");
}

/** The pod, then its workload and the LeakWatch (each regarding its own object, related to the pod). */
async function emitEverywhere(
  ctx: ActionContext,
  t: Target,
  input: Omit<EventInput, "regarding" | "related">,
): Promise<void> {
  const pod = podRef(t);
  await emit(ctx, { ...input, regarding: pod });
  const workload = workloadRef(t);
  if (workload !== undefined) await emit(ctx, { ...input, regarding: workload, related: pod });
  await emit(ctx, { ...input, regarding: leakWatchObjectRef(ctx.leakWatch), related: pod });
}

export async function actOnScrape(
  watch: TargetWatch,
  result: ScrapeResult,
  ctx: ActionContext,
): Promise<void> {
  const t = watch.target;
  const { heap, goroutines } = result.assessment;
  const now = ctx.now();
  if (t.snoozedUntil !== undefined && now < t.snoozedUntil) return;
  const episode = watch.episode;

  if (
    heap.verdict === "Healthy" &&
    goroutines.verdict !== "Leaking" &&
    (episode.suspectedNotified || episode.leakingNotified)
  ) {
    await emit(ctx, {
      regarding: podRef(t),
      type: "Normal",
      reason: "LeakResolved",
      action: "Detect",
      note: `Heap of ${t.pod}/${t.container} no longer grows steadily: ${heap.reasons.slice(0, 2).join(" ")}`,
      // A flapping service resolves again and again: one event object, counted, not a storm.
      seriesKey: `LeakResolved ${t.key}`,
    });
    watch.episode = newEpisode();
    return;
  }
  if (heap.verdict === "Suspected" && !episode.suspectedNotified && !episode.leakingNotified) {
    episode.suspectedNotified = true;
    await emit(ctx, {
      regarding: podRef(t),
      type: "Normal",
      reason: "MemoryLeakSuspected",
      action: "Detect",
      note: suspectedEventNote(t, heap),
      seriesKey: `MemoryLeakSuspected ${t.key}`,
    });
  }
  const heapLeaking = heap.verdict === "Leaking";
  const goroutinesLeaking = goroutines.verdict === "Leaking" && t.goroutinePath !== "";
  if ((heapLeaking || goroutinesLeaking) && episode.capture === undefined) {
    await captureEvidence(watch, result, ctx);
  }
  if (heapLeaking && !episode.leakingNotified) {
    episode.leakingNotified = true;
    const report = buildReportFor(watch, result, ctx);
    await emitEverywhere(ctx, t, {
      type: "Warning",
      reason: "MemoryLeakDetected",
      action: "Capture",
      note: leakEventNote({
        target: t,
        heap,
        windowMs: ctx.windowMs,
        heapDiff: report.heapDiff,
        capture: episode.capture?.name,
        captureProblem:
          episode.capture === undefined
            ? (episode.lastCaptureError ?? "capture failed; retrying")
            : undefined,
      }),
      seriesKey: `MemoryLeakDetected ${t.key}`,
    });
  }
  if (goroutinesLeaking && !episode.goroutinesNotified) {
    episode.goroutinesNotified = true;
    await emitEverywhere(ctx, t, {
      type: "Warning",
      reason: "GoroutineLeakDetected",
      action: "Capture",
      note: goroutineEventNote({
        target: t,
        goroutines,
        summary: result.goroutines?.summary,
        capture: episode.capture?.name,
      }),
      seriesKey: `GoroutineLeakDetected ${t.key}`,
    });
  }
}

function buildReportFor(
  watch: TargetWatch,
  result: ScrapeResult,
  ctx: ActionContext,
): ReturnType<typeof buildLeakReport> {
  return buildLeakReport({
    target: watch.target,
    heap: result.assessment.heap,
    goroutines: watch.target.goroutinePath === "" ? undefined : result.assessment.goroutines,
    windowMs: ctx.windowMs,
    baseline: watch.diffBaseline,
    current: result.heap.summary,
    goroutineSummary: result.goroutines?.summary,
    goroutineBaseline: undefined,
    goroutineLeak: result.goroutineLeak?.summary,
    now: result.at,
  });
}

/** Stores heap + goroutine + base profiles and the report; a failure is retried on the next scrape. */
async function captureEvidence(watch: TargetWatch, result: ScrapeResult, ctx: ActionContext): Promise<void> {
  const t = watch.target;
  const episode = watch.episode;
  const report = buildReportFor(watch, result, ctx);
  const base = watch.suspectedBase;
  const files = {
    "heap.pb.gz": result.heap.received.compressed,
    ...(result.goroutines === undefined ? {} : { "goroutine.pb.gz": result.goroutines.received.compressed }),
    ...(base === undefined || base.compressed === result.heap.received.compressed
      ? {}
      : { "base-heap.pb.gz": base.compressed }),
    "report.txt": report.text,
    "report.json": report.json,
  };
  try {
    const saved = await ctx.captures.save(
      files,
      {
        leakWatch: { name: ctx.leakWatch.name, uid: ctx.leakWatch.uid },
        namespace: ctx.leakWatch.namespace,
        pod: t.pod,
        container: t.container,
        ...(t.workload === undefined ? {} : { workload: t.workload }),
        createdAt: new Date(result.at).toISOString(),
        headline: report.headline,
        reason:
          result.assessment.heap.verdict === "Leaking"
            ? `heap ${rateText(result.assessment.heap, "bytes")}`
            : "goroutine leak",
      },
      { maxBytes: ctx.captureMaxBytes },
    );
    episode.capture = saved;
    ctx.metrics.captures.inc({ result: "stored" });
    ctx.metrics.apiWrites.inc({ kind: "capture" });
    await ctx.captures.prune(ctx.leakWatch.namespace, ctx.leakWatch.name, ctx.captureKeep);
    ctx.onCaptures((await ctx.captures.list(ctx.leakWatch.namespace, ctx.leakWatch.name)).map(toCaptureRef));
  } catch (err) {
    episode.captureFailures++;
    episode.lastCaptureError = err instanceof Error ? err.message : String(err);
    ctx.metrics.captures.inc({ result: "failed" });
    ctx.logger.warn(
      { pod: t.pod, err: episode.lastCaptureError, failures: episode.captureFailures },
      "capture failed; will retry",
    );
  }
}

/** A target that keeps failing gets one ScrapeFailing warning per streak (repeats aggregate). */
export async function actOnFailure(watch: TargetWatch, ctx: ActionContext): Promise<void> {
  const t = watch.target;
  if (watch.failures < FAILURES_BEFORE_WARNING || watch.failureWarned) return;
  if (t.snoozedUntil !== undefined && ctx.now() < t.snoozedUntil) return;
  watch.failureWarned = true;
  await emit(ctx, {
    regarding: podRef(t),
    type: "Warning",
    reason: "ScrapeFailing",
    action: "Scrape",
    note: `LeakWatch ${ctx.leakWatch.name} cannot read ${t.heapPath} on port ${t.port} of ${t.pod} (${watch.failures} attempts): ${watch.lastError ?? "unknown error"}`,
    seriesKey: `ScrapeFailing ${t.key}`,
  });
}
