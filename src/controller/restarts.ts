// Controlled restarts (action.mode: Restart): after each scrape of a leaking target, read what the
// decision needs (the owning workload, fresh; the pod cache; the restart records), decide with
// restart-policy.ts and, if allowed, store the restart record in status FIRST, then act through the
// Eviction API or a rollout restart, then store the outcome. Level-triggered: nothing here is a
// plan to finish later — each scrape looks again. Only the leader scrapes, so only the leader acts.
import { podOptIn } from "../api/annotations.ts";
import type { RestartSettings, WatchSettings } from "../api/defaults.ts";
import { formatDuration } from "../api/duration.ts";
import type { RestartRecord } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import { EvictionBlockedError, evictPod } from "../kube/eviction.ts";
import type { EventInput, EventRecorder, ObjectRef } from "../kube/events.ts";
import type { InformerHealth } from "../kube/informer.ts";
import type { Logger } from "../kube/logger.ts";
import type { PodInfo } from "../kube/pods.ts";
import { truncateUtf8 } from "../kube/text.ts";
import {
  isWorkloadKind,
  readWorkload,
  resolvePodWorkload,
  restartedAtValue,
  rolloutRestart,
  type WorkloadStatus,
} from "../kube/workloads.ts";
import { leakWatchObjectRef, podRef } from "./actions.ts";
import { heapCeilingBytes } from "./memory-model.ts";
import type { ControllerMetrics } from "./metrics.ts";
import { rateText } from "./report.ts";
import {
  countUnavailable,
  countsAgainstBudget,
  coveringRecord,
  decideRestart,
  minSettleMs,
  pruneRecords,
  recordTime,
  restartSettled,
  triggered,
  type PodSnapshot,
  type RestartDecision,
  type RestartInput,
} from "./restart-policy.ts";
import type { LeakWatchRuntime } from "./runtime.ts";
import { matchesSelector } from "./selector.ts";
import type { Target } from "./targets.ts";
import { workloadOf } from "./targets.ts";
import type { ScrapeResult, TargetWatch } from "./target-watch.ts";

/** The pod cache of a LeakWatch's namespace (the informer), as the coordinator reads it. */
export interface PodCache {
  list(): ReadonlyArray<PodInfo>;
  health(): InformerHealth;
}

export interface RestartDeps {
  client: Pick<KubeClient, "get" | "create" | "patch">;
  events: Pick<EventRecorder, "record">;
  metrics: Pick<ControllerMetrics, "restarts" | "events">;
  logger: Logger;
  now: () => number;
  /** This replica (goes into the restart record). */
  identity: string;
  /** Writes the runtime's restart records into the LeakWatch status and resolves once stored. */
  persistRecords: (runtime: LeakWatchRuntime) => Promise<void>;
  /** The pod cache of the LeakWatch's namespace; undefined when there is none. */
  pods: (runtime: LeakWatchRuntime) => PodCache | undefined;
}

/** What a restart decision reads from a scrape. */
export type RestartScrape = Pick<ScrapeResult, "at" | "assessment">;

/** Longest wait between attempts at a blocked restart. */
const MAX_BACKOFF_MS = 5 * 60_000;

interface RuntimeState {
  /** A decision is in flight for this LeakWatch. */
  busy: boolean;
  /** The hold last reported per target: one event per streak of the same reason. */
  holds: Map<string, string>;
  /** Blocked attempts per target: how many so far, and not before when to try again. */
  backoff: Map<string, { attempts: number; nextAt: number }>;
  /** Records seen settled, never read again. */
  settled: Set<string>;
}

export class RestartCoordinator {
  private readonly deps: RestartDeps;
  private readonly states = new WeakMap<LeakWatchRuntime, RuntimeState>();

  constructor(deps: RestartDeps) {
    this.deps = deps;
  }

  /**
   * Called after every successful scrape (and its events/captures) of a Restart-mode LeakWatch's
   * target. Never throws. One decision per LeakWatch at a time: a scrape that finds one in flight
   * leaves it to the next scrape (level-triggered), so no scrape worker waits on an eviction.
   */
  async consider(
    runtime: LeakWatchRuntime,
    watch: TargetWatch,
    result: RestartScrape,
    signal: AbortSignal,
  ): Promise<void> {
    const settings = runtime.settings;
    if (settings?.action.mode !== "Restart") return;
    const state = this.stateOf(runtime);
    if (state.busy) {
      this.deps.logger.debug(
        { leakwatch: runtime.key, pod: watch.target.pod },
        "restart decision in flight; next scrape",
      );
      return;
    }
    state.busy = true;
    try {
      await this.decide(runtime, settings, settings.action.restart, state, watch, result, signal);
    } catch (err) {
      this.deps.logger.error(
        { leakwatch: runtime.key, pod: watch.target.pod, err: String(err) },
        "restart decision failed",
      );
    } finally {
      state.busy = false;
    }
  }

  private stateOf(runtime: LeakWatchRuntime): RuntimeState {
    let state = this.states.get(runtime);
    if (state === undefined) {
      state = { busy: false, holds: new Map(), backoff: new Map(), settled: new Set() };
      this.states.set(runtime, state);
    }
    return state;
  }

  private async decide(
    runtime: LeakWatchRuntime,
    settings: WatchSettings,
    s: RestartSettings,
    state: RuntimeState,
    watch: TargetWatch,
    result: RestartScrape,
    signal: AbortSignal,
  ): Promise<void> {
    const t = watch.target;
    const now = this.deps.now();
    for (const key of [...state.holds.keys(), ...state.backoff.keys()]) {
      if (!runtime.targets.has(key)) {
        state.holds.delete(key);
        state.backoff.delete(key);
      }
    }
    const heap = result.assessment.heap;
    const hasMemoryLimit = heapCeilingBytes(t.memoryLimitBytes, settings.detection) !== undefined;
    const trigger = {
      leaking: heap.verdict === "Leaking",
      hasMemoryLimit,
      timeToLimitMs: hasMemoryLimit ? heap.timeToCeilingMs : null,
    };
    if (!triggered(s, trigger)) {
      state.holds.delete(t.key);
      return;
    }
    const backoff = state.backoff.get(t.key);
    if (backoff !== undefined && now < backoff.nextAt) return; // blocked; reported when it happened

    const input = await this.inputFor(runtime, settings, s, state, watch, result, trigger, now, signal);
    const decision = decideRestart(input);
    switch (decision.kind) {
      case "None":
        state.holds.delete(t.key);
        return;
      case "Hold":
        await this.hold(runtime, state, t, decision, s);
        return;
      case "Restart": {
        const labels =
          this.deps
            .pods(runtime)
            ?.list()
            .find((p) => p.name === t.pod)?.labels ?? {};
        await this.restart(runtime, state, watch, result, decision, s, settings.intervalMs, labels, signal);
        return;
      }
    }
  }

  /**
   * Everything the policy needs. The pod's own wishes (opt-out, snooze) come before anything that
   * needs an API read, so an opted-out or snoozed pod costs no reads.
   */
  private async inputFor(
    runtime: LeakWatchRuntime,
    settings: WatchSettings,
    s: RestartSettings,
    state: RuntimeState,
    watch: TargetWatch,
    result: RestartScrape,
    trigger: Pick<RestartInput, "leaking" | "hasMemoryLimit" | "timeToLimitMs">,
    now: number,
    signal: AbortSignal,
  ): Promise<RestartInput> {
    const t = watch.target;
    const base = {
      settings: s,
      intervalMs: settings.intervalMs,
      now,
      pod: t.pod,
      podReady: t.ready,
      podStartedAt: t.startedAt,
      ...trigger,
      optedOut: t.restartOptOut,
      snoozedUntil: t.snoozedUntil,
      captureStored: watch.episode.capture !== undefined,
      records: runtime.restarts,
    };
    if (t.restartOptOut || (t.snoozedUntil !== undefined && now < t.snoozedUntil)) {
      const workload = { kind: "Unknown", reason: "not read" } as const;
      return { ...base, workload, unavailable: 0, workloadUnavailable: 0, stale: undefined };
    }
    const workload = await resolvePodWorkload(this.deps.client, t.namespace, t.pod, t.owner, signal);
    const cache = this.deps.pods(runtime);
    const all = cache?.list() ?? [];
    const namespacePods = all.map(snapshot);
    // This LeakWatch's pods (selected and opted in): what maxUnavailable counts.
    const pods = all
      .filter((p) => matchesSelector(p.labels, settings.selector) && podOptIn(p.annotations).optedIn)
      .map(snapshot);
    const stale =
      cacheStaleness(cache?.health(), now) ?? scrapeStaleness(result.at, now, settings.intervalMs);
    const known = workload.kind !== "None" && workload.kind !== "Unknown" ? workload : undefined;
    if (stale === undefined && known !== undefined) {
      this.resolvePending(runtime, t, known, namespacePods, now, settings.intervalMs);
    }
    const settling = await this.settling(runtime, state, namespacePods, now, settings.intervalMs, signal);
    const counts = countUnavailable({ pod: t.pod, pods, settling, now });
    return {
      ...base,
      // resolvePending may have settled a record: read the list again.
      records: runtime.restarts,
      workload,
      unavailable: counts.total,
      workloadUnavailable:
        known === undefined ? 0 : (counts.byWorkload.get(`${known.kind}/${known.name}`) ?? 0),
      stale,
    };
  }

  /**
   * A Pending record about this pod from an attempt whose outcome never arrived (a crash, a lost
   * connection) is settled by evidence once the API has had time to show it: a pod still running
   * was not evicted; a rollout happened if the template carries its restartedAt.
   */
  private resolvePending(
    runtime: LeakWatchRuntime,
    t: Target,
    workload: WorkloadStatus,
    pods: readonly PodSnapshot[],
    now: number,
    intervalMs: number,
  ): void {
    const record = coveringRecord(
      runtime.restarts,
      { name: t.pod, workload: `${workload.kind}/${workload.name}`, startedAt: t.startedAt },
      now,
    );
    if (record?.result !== "Pending" || now - recordTime(record, now) < minSettleMs(intervalMs)) return;
    const done =
      record.strategy === "Evict"
        ? !pods.some((p) => p.name === t.pod && !p.deleting)
        : workload.restartedAt !== undefined &&
          workload.restartedAt >= restartedAtValue(recordTime(record, now));
    if (done) {
      setResult(runtime, record, "Restarted");
    } else {
      setResult(runtime, record, "Blocked");
      this.deps.logger.info(
        { leakwatch: runtime.key, pod: t.pod, record: record.time },
        "an earlier restart attempt did not happen; it will be retried",
      );
    }
  }

  /** Restart records still settling: their workload is not whole again yet (see restartSettled). */
  private async settling(
    runtime: LeakWatchRuntime,
    state: RuntimeState,
    pods: readonly PodSnapshot[],
    now: number,
    intervalMs: number,
    signal: AbortSignal,
  ): Promise<RestartRecord[]> {
    const out: RestartRecord[] = [];
    const reads = new Map<string, Awaited<ReturnType<typeof readWorkload>>>();
    const present = new Set<string>();
    for (const r of runtime.restarts) {
      const key = recordKey(r);
      present.add(key);
      if (!countsAgainstBudget(r) || state.settled.has(key)) continue;
      if (now - recordTime(r, now) < minSettleMs(intervalMs)) {
        out.push(r);
        continue;
      }
      let workload = reads.get(r.workload);
      if (workload === undefined) {
        const [kind = "", name = ""] = r.workload.split("/", 2);
        workload = isWorkloadKind(kind)
          ? await readWorkload(this.deps.client, runtime.ref.namespace, kind, name, signal)
          : { kind: "Gone" };
        reads.set(r.workload, workload);
      }
      if (restartSettled(r, { now, intervalMs, pods, workload })) state.settled.add(key);
      else out.push(r);
    }
    for (const key of state.settled) if (!present.has(key)) state.settled.delete(key);
    return out;
  }

  private async hold(
    runtime: LeakWatchRuntime,
    state: RuntimeState,
    t: Target,
    decision: Extract<RestartDecision, { kind: "Hold" }>,
    s: RestartSettings,
  ): Promise<void> {
    if (state.holds.get(t.key) === decision.reason) return;
    state.holds.set(t.key, decision.reason);
    this.deps.metrics.restarts.inc({ strategy: s.strategy, result: "skipped" });
    this.deps.logger.info({ leakwatch: runtime.key, pod: t.pod, reason: decision.reason }, decision.message);
    await this.emit(runtime, t, undefined, {
      type: decision.warning ? "Warning" : "Normal",
      reason: decision.event,
      action: "Restart",
      note: `LeakWatch ${runtime.ref.name} did not restart ${t.pod} (${s.strategy}): ${decision.message}.`,
      seriesKey: `${decision.event} ${decision.reason} ${t.key}`,
    });
  }

  private async restart(
    runtime: LeakWatchRuntime,
    state: RuntimeState,
    watch: TargetWatch,
    result: RestartScrape,
    decision: Extract<RestartDecision, { kind: "Restart" }>,
    s: RestartSettings,
    intervalMs: number,
    labels: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<void> {
    const t = watch.target;
    const now = this.deps.now();
    const capture = watch.episode.capture?.name;
    const workloadName = `${decision.workload.kind}/${decision.workload.name}`;
    const why = `heap leaking ${rateText(result.assessment.heap, "bytes")}`;
    const record: RestartRecord = {
      pod: t.pod,
      workload: workloadName,
      time: new Date(now).toISOString(),
      strategy: s.strategy,
      reason: truncateUtf8(`${why}: ${decision.message}`, 512),
      result: decision.dryRun ? "DryRun" : "Pending",
      ...(capture === undefined ? {} : { capture }),
      ...(decision.dryRun ? { dryRun: true } : {}),
      by: this.deps.identity,
    };
    // The record goes into status before anything happens, so a crash cannot lose a restart.
    const before = runtime.restarts;
    const unsettled = (r: RestartRecord): boolean =>
      countsAgainstBudget(r) && !state.settled.has(recordKey(r));
    runtime.restarts = pruneRecords(
      [...before.filter((r) => r !== decision.retrying), record],
      s,
      now,
      unsettled,
    );
    try {
      await this.deps.persistRecords(runtime);
    } catch (err) {
      runtime.restarts = before;
      this.deps.logger.warn(
        { leakwatch: runtime.key, pod: t.pod, err: String(err) },
        "restart not attempted: its record could not be stored in status",
      );
      return;
    }
    const evidence =
      capture !== undefined
        ? `Evidence: capture ${capture} (kubectl leakwatch captures get ${capture} -n ${t.namespace}).`
        : `Proceeding WITHOUT evidence: the capture is not stored (${watch.episode.lastCaptureError ?? "not taken yet"}) and the memory limit is near.`;
    const related = { kind: decision.workload.kind, name: decision.workload.name };
    if (decision.dryRun) {
      state.holds.delete(t.key);
      this.deps.metrics.restarts.inc({ strategy: s.strategy, result: "dry_run" });
      await this.emit(runtime, t, related, {
        type: "Normal",
        reason: "WouldRestart",
        action: "Restart",
        note: `LeakWatch ${runtime.ref.name} (dryRun) ${decision.message}, strategy ${s.strategy}: ${why}. Nothing was changed. ${evidence}`,
        seriesKey: `WouldRestart ${t.key}`,
      });
      return;
    }
    if (signal.aborted) return; // leadership lost: the Pending record is settled by evidence later

    let outcome: "done" | "gone";
    try {
      if (s.strategy === "Evict") {
        const evicted = await evictPod(
          this.deps.client,
          { namespace: t.namespace, name: t.pod, uid: t.podUID, labels },
          { matchesSelector, signal },
        );
        outcome = evicted === "evicted" ? "done" : "gone";
      } else {
        const kind = decision.workload.kind;
        if (kind === "ReplicaSet") throw new Error("a ReplicaSet has no rollout"); // the policy refuses it
        await rolloutRestart(this.deps.client, t.namespace, kind, decision.workload.name, now, signal);
        outcome = "done";
      }
    } catch (err) {
      await this.failed(runtime, state, t, record, related, s, intervalMs, err);
      return;
    }
    if (outcome === "gone") {
      // Someone else removed the pod first: nothing was restarted by us.
      setResult(runtime, record, "Removed");
      state.holds.delete(t.key);
      await this.persistQuietly(runtime);
      return;
    }
    setResult(runtime, record, "Restarted");
    state.holds.delete(t.key);
    state.backoff.delete(t.key);
    this.deps.metrics.restarts.inc({ strategy: s.strategy, result: "restarted" });
    const did =
      s.strategy === "Evict" ? `evicted ${t.pod}` : `rollout-restarted ${workloadName} (for ${t.pod})`;
    const limit =
      decision.timeToLimitMs === null
        ? ""
        : ` The memory limit was projected in ${formatDuration(decision.timeToLimitMs)}.`;
    await this.emit(runtime, t, related, {
      type: decision.withoutEvidence ? "Warning" : "Normal",
      reason: "LeakRestarted",
      action: "Restart",
      note: `LeakWatch ${runtime.ref.name} ${did} at ${record.time} (by ${this.deps.identity}, strategy ${s.strategy}): ${why}.${limit} ${evidence}`,
      seriesKey: `LeakRestarted ${t.key}`,
    });
    await this.persistQuietly(runtime);
  }

  /** The API refused (Blocked: retried with backoff) or did not answer (Pending: settled later). */
  private async failed(
    runtime: LeakWatchRuntime,
    state: RuntimeState,
    t: Target,
    record: RestartRecord,
    related: { kind: string; name: string },
    s: RestartSettings,
    intervalMs: number,
    err: unknown,
  ): Promise<void> {
    const attempts = (state.backoff.get(t.key)?.attempts ?? 0) + 1;
    const retryAfterMs =
      err instanceof EvictionBlockedError || err instanceof KubeApiError
        ? (err.retryAfterSeconds ?? 0) * 1000
        : 0;
    const delayMs = Math.max(
      retryAfterMs,
      Math.min(intervalMs * 2 ** (attempts - 1), Math.max(MAX_BACKOFF_MS, intervalMs)),
    );
    state.backoff.set(t.key, { attempts, nextAt: this.deps.now() + delayMs });
    if (!(err instanceof KubeApiError) && !(err instanceof EvictionBlockedError)) {
      // No answer: the restart may or may not have happened. The record stays Pending (it counts).
      this.deps.logger.warn(
        { leakwatch: runtime.key, pod: t.pod, err: String(err) },
        "restart outcome unknown; the record stays Pending until the cluster shows what happened",
      );
      await this.persistQuietly(runtime);
      return;
    }
    setResult(runtime, record, "Blocked");
    state.holds.set(t.key, "Blocked");
    this.deps.metrics.restarts.inc({ strategy: s.strategy, result: "blocked" });
    const what = s.strategy === "Evict" ? `evict ${t.pod}` : `rollout-restart ${record.workload}`;
    const by =
      err instanceof EvictionBlockedError
        ? err.budgets.length > 0
          ? `PodDisruptionBudget ${err.budgets.join(", ")} allows no disruption now (${err.detail})`
          : `the API server refused it (${err.detail})`
        : err.message;
    await this.emit(runtime, t, related, {
      type: "Warning",
      reason: "RestartBlocked",
      action: "Restart",
      note: `LeakWatch ${runtime.ref.name} could not ${what}: ${by}. Retrying in ${formatDuration(delayMs)} (attempt ${attempts}).`,
      seriesKey: `RestartBlocked ${t.key}`,
    });
    await this.persistQuietly(runtime);
  }

  private async persistQuietly(runtime: LeakWatchRuntime): Promise<void> {
    try {
      await this.deps.persistRecords(runtime);
    } catch (err) {
      // The next status write carries it; until then a Pending record in status keeps counting.
      this.deps.logger.warn({ leakwatch: runtime.key, err: String(err) }, "restart outcome not stored yet");
    }
  }

  /** The pod, then the workload (if any) and the LeakWatch, each related to the pod. */
  private async emit(
    runtime: LeakWatchRuntime,
    t: Target,
    workload: { kind: string; name: string } | undefined,
    input: Omit<EventInput, "regarding" | "related">,
  ): Promise<void> {
    const pod = podRef(t);
    const refs: ObjectRef[] = [pod];
    if (workload !== undefined)
      refs.push({ apiVersion: "apps/v1", kind: workload.kind, namespace: t.namespace, name: workload.name });
    refs.push(leakWatchObjectRef(runtime.ref));
    for (const regarding of refs) {
      const outcome = await this.deps.events.record({
        ...input,
        regarding,
        ...(regarding === pod ? {} : { related: pod }),
      });
      if (outcome.result === "failed")
        this.deps.logger.warn({ reason: input.reason, err: outcome.error.message }, "event not recorded");
      else this.deps.metrics.events.inc({ reason: input.reason });
    }
  }
}

/**
 * Replaces a record in the runtime's list with a copy carrying `result` (or removes it). Records
 * are never changed in place: the status writer and the informer cache hold the same objects.
 */
function setResult(
  runtime: LeakWatchRuntime,
  record: RestartRecord,
  result: RestartRecord["result"] | "Removed",
): RestartRecord {
  const updated = result === "Removed" ? undefined : { ...record, result };
  const same = (r: RestartRecord): boolean =>
    r === record || (r.time === record.time && r.pod === record.pod && r.workload === record.workload);
  runtime.restarts = runtime.restarts.flatMap((r) =>
    same(r) ? (updated === undefined ? [] : [updated]) : [r],
  );
  return updated ?? record;
}

function recordKey(r: RestartRecord): string {
  return `${r.workload}|${r.pod}|${r.time}`;
}

function snapshot(p: PodInfo): PodSnapshot {
  const w = workloadOf(p);
  const started = p.containerStatuses.map((c) => c.startedAt).filter((x) => x !== undefined);
  return {
    name: p.name,
    workload: w === undefined ? undefined : `${w.kind}/${w.name}`,
    ready: p.ready,
    deleting: p.deleting,
    startedAt: started.length === 0 ? undefined : Math.min(...started),
  };
}

/** Why the pod cache may not show the cluster as it is, if it may not. */
export function cacheStaleness(health: InformerHealth | undefined, now: number): string | undefined {
  if (health === undefined) return "the pod cache is not running";
  if (!health.synced) return "the pod cache has not synced yet";
  if (health.downSince !== undefined)
    return `the pod watch has been down for ${formatDuration(now - health.downSince)}`;
  return undefined;
}

/** Why this scrape's verdict may be out of date, if it may. */
export function scrapeStaleness(at: number, now: number, intervalMs: number): string | undefined {
  if (now < at - 1_000) return "the clock stepped back since the scrape";
  const limit = Math.max(2 * intervalMs, 30_000);
  if (now - at > limit) return `the scrape is ${formatDuration(now - at)} old`;
  return undefined;
}
