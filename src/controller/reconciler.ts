// The LeakWatch reconcile: level-triggered and idempotent. It reads the LeakWatch and its
// namespace's pods from the caches, brings the watched targets in line, and writes status when it
// changed. Scrapes run on their own schedule and only ask for a reconcile when a verdict moved.
import { resolveSpec } from "../api/defaults.ts";
import { SpecError } from "../api/errors.ts";
import type { CaptureRef, LeakWatch } from "../api/types.ts";
import { InvalidDetectorConfigError } from "../detect/index.ts";
import type { Logger } from "../kube/logger.ts";
import type { StateStore } from "../kube/statestore.ts";
import type { StatusWriter, StatusWriteResult } from "../kube/status.ts";
import { done, requeueAfter, type ReconcileContext, type ReconcileResult } from "../kube/workqueue.ts";
import type { ControllerConfig } from "./config.ts";
import type { ControllerMetrics } from "./metrics.ts";
import type { PodInformers } from "./pod-informers.ts";
import { LeakWatchRuntime, parsePersisted } from "./runtime.ts";
import type { TargetWatch } from "./target-watch.ts";
import { buildStatus } from "./status.ts";
import { discoverTargets } from "./targets.ts";

/** A safety-net revisit, so status and persisted state stay fresh even without events. */
const RESYNC_MS = 60_000;
/** Orphaned capture parts (a crash mid-capture) older than this are removed. */
export const ORPHAN_GRACE_MS = 10 * 60_000;
export const SWEEP_EVERY_MS = 30 * 60_000;
/** Least time between two saves of one LeakWatch's state that a Leaking verdict change brings forward. */
const MOVED_PERSIST_GAP_MS = 5_000;
/**
 * Shards written per periodic save, stalest first: the state write rate stays the same whatever
 * the number of targets (a LeakWatch with more shards than this keeps each one a few periods old).
 * Saves on a verdict change, at shutdown and on re-shard write every shard.
 */
export const STATE_SHARD_WRITES_PER_SAVE = 4;

/** What a reconcile uses of the controller that runs it (its caches, stores and schedule). */
export interface ReconcileHost {
  readonly config: ControllerConfig;
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  readonly runtimes: Map<string, LeakWatchRuntime>;
  readonly podInformers: PodInformers;
  readonly status: StatusWriter;
  readonly now: () => number;
  leakWatch(key: string): LeakWatch | undefined;
  stateStore(runtime: LeakWatchRuntime): StateStore;
  listCaptures(runtime: LeakWatchRuntime): Promise<CaptureRef[]>;
  sweepOrphans(runtime: LeakWatchRuntime, graceMs: number): Promise<void>;
  dispose(runtime: LeakWatchRuntime): Promise<void>;
  schedule(runtime: LeakWatchRuntime, watch: TargetWatch): void;
  unschedule(runtime: LeakWatchRuntime, watches: readonly TargetWatch[]): void;
}

export async function reconcileLeakWatch(
  c: ReconcileHost,
  key: string,
  ctx: ReconcileContext,
): Promise<ReconcileResult> {
  const lw = c.leakWatch(key);
  const existing = c.runtimes.get(key);
  if (lw === undefined) {
    if (existing !== undefined) await c.dispose(existing);
    return done();
  }
  let runtime = existing;
  if (runtime !== undefined && runtime.ref.uid !== (lw.metadata.uid ?? "")) {
    await c.dispose(runtime); // deleted and created again under the same name
    runtime = undefined;
  }
  if (runtime === undefined) {
    runtime = new LeakWatchRuntime(lw);
    c.runtimes.set(key, runtime);
  }
  const namespace = lw.metadata.namespace;
  const pods = c.podInformers.acquire(namespace, key);
  if (!pods.synced) return requeueAfter(500);

  const phase = configure(c, runtime, lw);
  if (phase !== "ok") {
    c.unschedule(runtime, runtime.clearTargets());
    return writeStatus(c, runtime, lw, ctx);
  }
  const settings = runtime.settings;
  if (settings === undefined) return done();

  if (!runtime.loaded) {
    runtime.restored = await loadState(c, runtime);
    runtime.captures = await c.listCaptures(runtime);
    runtime.restarts = [...(lw.status?.restarts ?? [])];
    runtime.lastPersistAt = c.now();
    runtime.loaded = true;
  }
  const discovery = discoverTargets(settings, pods.list());
  runtime.skipped = discovery.skipped;
  const { added, removed } = runtime.syncTargets(discovery.targets);
  c.unschedule(runtime, removed);
  for (const watch of added) c.schedule(runtime, watch);
  for (const watch of runtime.targets.values()) c.schedule(runtime, watch); // picks up interval changes

  await persistIfDue(c, runtime);
  if (c.now() - runtime.lastSweepAt > SWEEP_EVERY_MS) {
    runtime.lastSweepAt = c.now();
    await c.sweepOrphans(runtime, ORPHAN_GRACE_MS);
  }
  return writeStatus(c, runtime, lw, ctx);
}

/** Resolves the spec into the runtime; says why not when it cannot be watched. */
function configure(c: ReconcileHost, runtime: LeakWatchRuntime, lw: LeakWatch): "ok" | "stopped" {
  try {
    runtime.configure(resolveSpec(lw.spec));
  } catch (err) {
    if (err instanceof SpecError || err instanceof InvalidDetectorConfigError) {
      runtime.phase = { kind: "InvalidSpec", message: err.message };
      c.logger.warn({ leakwatch: runtime.key, err: err.message }, "invalid LeakWatch spec");
      return "stopped";
    }
    throw err;
  }
  if (runtime.settings?.suspend === true) {
    runtime.phase = { kind: "Suspended" };
    return "stopped";
  }
  runtime.phase = { kind: "Watching" };
  return "ok";
}

async function loadState(c: ReconcileHost, runtime: LeakWatchRuntime): Promise<LeakWatchRuntime["restored"]> {
  const loaded = await c.stateStore(runtime).load();
  const restored = new Map<string, NonNullable<ReturnType<typeof parsePersisted>>>();
  for (const [key, text] of loaded.entries) {
    const entry = parsePersisted(text);
    if (entry !== undefined) restored.set(key, entry);
  }
  if (restored.size > 0)
    c.logger.info({ leakwatch: runtime.key, targets: restored.size }, "restored detector history");
  return restored;
}

/** How often detector state is saved: every few intervals, and at least 30 s apart. */
export function persistPeriodMs(c: ReconcileHost, intervalMs: number): number {
  return Math.max(c.config.persistEveryIntervals * intervalMs, 30_000);
}

/**
 * Saves detector state when its period is up — or sooner (at most every few seconds) when a
 * target became Leaking or stopped being Leaking, so a crash never takes a verdict change with it.
 */
export async function persistIfDue(
  c: ReconcileHost,
  runtime: LeakWatchRuntime,
  force = false,
): Promise<void> {
  const settings = runtime.settings;
  if (settings === undefined) return;
  const since = c.now() - runtime.lastPersistAt;
  const moved = [...runtime.targets.values()].some((w) => w.leakingMoved);
  const due = since >= persistPeriodMs(c, settings.intervalMs) || (moved && since >= MOVED_PERSIST_GAP_MS);
  if (!force && !due) return;
  const dirty = [...runtime.targets.values()].some((w) => w.dirty);
  if (!dirty) return;
  const result = await c
    .stateStore(runtime)
    .save(runtime.persistedEntries(), force || moved ? {} : { maxShardWrites: STATE_SHARD_WRITES_PER_SAVE });
  for (const w of runtime.targets.values()) {
    w.dirty = false;
    w.leakingMoved = false;
  }
  runtime.lastPersistAt = c.now();
  if (result.written > 0) c.metrics.apiWrites.inc({ kind: "state" }, result.written);
}

async function writeStatus(
  c: ReconcileHost,
  runtime: LeakWatchRuntime,
  lw: LeakWatch,
  ctx: ReconcileContext,
): Promise<ReconcileResult> {
  if (ctx.signal.aborted) return done();
  const result = await writeStatusNow(c, runtime, lw);
  // Come back when the state is due to be saved, so the period holds without other events.
  const settings = runtime.settings;
  const moved = [...runtime.targets.values()].some((w) => w.leakingMoved);
  const persistIn =
    settings === undefined
      ? RESYNC_MS
      : Math.max(
          1_000,
          runtime.lastPersistAt +
            (moved ? MOVED_PERSIST_GAP_MS : persistPeriodMs(c, settings.intervalMs)) -
            c.now(),
        );
  const next = Math.min(RESYNC_MS, persistIn);
  if (result.result === "deferred") return requeueAfter(Math.min(result.retryAfterMs, next));
  return requeueAfter(next);
}

/**
 * Builds and writes the status; `significant` bypasses the rate limit (restart records must be
 * stored before the restart they describe).
 */
export async function writeStatusNow(
  c: ReconcileHost,
  runtime: LeakWatchRuntime,
  lw: LeakWatch,
  significant = false,
): Promise<StatusWriteResult> {
  const views = [...runtime.targets.values()].map((w) => w.view());
  const status = buildStatus({
    generation: lw.metadata.generation,
    phase: runtime.phase,
    views,
    skipped: runtime.skipped,
    captures: runtime.captures,
    restarts: runtime.restarts,
    previousConditions: lw.status?.conditions,
    now: new Date(c.now()),
  });
  c.metrics.setVerdictCounts(runtime.ref.namespace, runtime.ref.name, {
    Collecting: status.collecting ?? 0,
    Healthy: status.healthy ?? 0,
    Suspected: status.suspected ?? 0,
    Leaking: status.leaking ?? 0,
    Failing: status.failing ?? 0,
  });
  const result = await c.status.write(runtime.ref, status, { significant });
  runtime.statusDirty = false;
  if (result.result === "written") c.metrics.apiWrites.inc({ kind: "status" });
  return result;
}
