// The per-target memory budget, part by part: builds what the operator holds for N targets with the
// controller's own code — the trimmed pod in the informer cache, the Target, the TargetWatch with a
// mature detector history restored, two scrapes of real profiles (the second after half a window,
// so both diff baselines exist), the Prometheus series, the scheduler job — then weighs each part
// by what a full GC frees when it is dropped, divided by N: V8 heap plus ArrayBuffer backing stores
// (typed arrays keep their bytes outside the V8 heap). No cluster and no network: the profiles come
// from the fleet's files. Needs --expose-gc (run.ts starts it that way).
//
//   node --expose-gc bench/scale/budget.ts [--targets=2000] [--history=48]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { resolveSpec } from "../../src/api/defaults.ts";
import type { LeakWatch } from "../../src/api/types.ts";
import { ControllerMetrics, type TargetLabels } from "../../src/controller/metrics.ts";
import { LeakWatchRuntime } from "../../src/controller/runtime.ts";
import { ScrapeScheduler } from "../../src/controller/scheduler.ts";
import type { ProfileSource } from "../../src/controller/source.ts";
import { discoverTargets } from "../../src/controller/targets.ts";
import { TargetWatch } from "../../src/controller/target-watch.ts";
import type { CacheEntry } from "../../src/kube/cache.ts";
import { trimPod, type PodInfo, type V1Pod } from "../../src/kube/pods.ts";
import {
  createSeriesState,
  observe,
  restoreSeriesState,
  serializeSeriesState,
  type SeriesState,
} from "../../src/detect/index.ts";
import { DEFAULT_LIMITS, decodeProfileBytes } from "../../src/profile/index.ts";
import { LEAKWATCH, NAMESPACE, podBody, podName, runningStatus } from "./cluster.ts";
import { fleetProfiles } from "./fleet.ts";
import { matureSeries } from "./history.ts";

/** The budget line of both diff baselines of a target. */
export const BASELINES_PART = "2 diff baselines (48 sites each)";

export interface BudgetLine {
  part: string;
  /** V8 heap plus ArrayBuffer backing stores. */
  bytesPerTarget: number;
  /** The share of bytesPerTarget outside the V8 heap (ArrayBuffer backing stores). */
  offHeapBytesPerTarget: number;
  /** False for breakdowns of the line above and for stand-ins: not added to the total. */
  counted: boolean;
}

const gc = (globalThis as { gc?: () => void }).gc;

interface Weight {
  heap: number;
  offHeap: number;
}

/** Live bytes after a full GC: the V8 heap, and the ArrayBuffer backing stores outside it. */
function weighAfterGc(): Weight {
  if (gc === undefined) throw new Error("run with node --expose-gc");
  for (let i = 0; i < 3; i++) gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heap: heapUsed, offHeap: arrayBuffers };
}

/** A pod as the API server sends it in a list (server-set metadata included), parsed afresh. */
function serverPod(i: number, port: number, started: string): V1Pod {
  const body = podBody(i, port) as { metadata: Record<string, unknown>; spec: unknown };
  const status = runningStatus(i, started) as { status: unknown };
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...body.metadata,
      namespace: NAMESPACE,
      uid: `0b3c${String(i).padStart(4, "0")}-1f2e-4d5c-8b7a-${String(i).padStart(12, "0")}`,
      resourceVersion: String(100_000 + i),
      creationTimestamp: started,
      managedFields: [
        { manager: "leakwatch-bench-scale", operation: "Update", apiVersion: "v1", time: started },
      ],
    },
    spec: body.spec,
    status: status.status,
  };
  return JSON.parse(JSON.stringify(pod)) as V1Pod;
}

/** TargetWatch's private fields that the budget weighs by clearing them (measurement only). */
interface WatchInternals {
  series: SeriesState;
  assessment: unknown;
  baseline: unknown;
  nextBaseline: unknown;
}

export async function measureBudget(targets: number, historyHours: number): Promise<BudgetLine[]> {
  const profiles = fleetProfiles();
  const files = {
    small: profiles.small.map((f) => readFileSync(f)),
    large: profiles.large.map((f) => readFileSync(f)),
  };
  const lw: LeakWatch = {
    apiVersion: "leakwatch.dev/v1alpha1",
    kind: "LeakWatch",
    metadata: { name: LEAKWATCH, namespace: NAMESPACE, uid: "5e1f0000-0000-4000-8000-000000000001" },
    spec: { selector: { matchLabels: { app: "fleet" } } },
  };
  const runtime = new LeakWatchRuntime(lw);
  runtime.configure(resolveSpec(lw.spec));
  const { settings, detector } = runtime;
  if (settings === undefined || detector === undefined) throw new Error("the spec did not resolve");
  const start = Date.now();
  const started = new Date(Math.floor((start - (historyHours + 1) * 3_600_000) / 1000) * 1000)
    .toISOString()
    .replace(/\.\d+Z$/, "Z");
  const series = [0, 1, 2, 3].map((k) => ({
    small: historyHours > 0 ? matureSeries(lw, profiles.inuse.small, k, historyHours, start) : undefined,
    large:
      historyHours > 0 ? matureSeries(lw, profiles.inuse.large, 100 + k, historyHours, start) : undefined,
  }));

  // Build everything the controller holds per target, with its own code.
  let cache = new Map<string, CacheEntry<PodInfo>>();
  for (let i = 0; i < targets; i++) {
    const raw = serverPod(i, 8080, started);
    cache.set(`${NAMESPACE}/${podName(i)}`, { object: trimPod(raw), resourceVersion: String(i) });
  }
  let discovered = discoverTargets(
    settings,
    [...cache.values()].map((e) => e.object),
  ).targets;
  // Fresh series here: the detector's state is weighed on its own below, with real history.
  // Goroutine profiles come from the live fleet only; their summaries are not kept per target.
  let watches = discovered.map((target) => new TargetWatch({ ...target, goroutinePath: "" }));
  for (const w of watches) runtime.targets.set(w.target.key, w);
  const large = new Set(watches.filter((_, i) => i % 10 === 0).map((w) => w.target.key));
  let fileIndex = 0;
  const source: ProfileSource = {
    fetch: async (r) => {
      const pool = large.has(r.target.key) ? files.large : files.small;
      const compressed = pool[fileIndex++ % pool.length] ?? Buffer.alloc(0);
      return Promise.resolve({
        compressed,
        decompressedBytes: 0,
        profile: decodeProfileBytes(compressed, { stacks: r.stacks }),
      });
    },
  };
  const context = {
    settings,
    detector,
    source,
    limits: DEFAULT_LIMITS,
    credentials: async () => Promise.resolve({}),
  };
  const signal = new AbortController().signal;
  // Two scrapes half a window apart: the diff baseline and the next one both exist.
  for (const at of [start + 60_000, start + 60_000 + settings.detection.windowMs / 2]) {
    for (const w of watches) await w.scrape(context, () => at, signal);
  }
  const metrics = new ControllerMetrics({ processMetrics: false });
  const labels = (w: TargetWatch): TargetLabels => ({
    namespace: NAMESPACE,
    leakwatch: LEAKWATCH,
    pod: w.target.pod,
    container: w.target.container,
  });
  for (const w of watches) {
    const view = w.view();
    metrics.setTarget(labels(w), {
      ...(view.heapBytes === undefined ? {} : { heapBytes: view.heapBytes }),
      growthPerHour: view.heap?.slopePerHour ?? 0,
      goroutines: 40,
      verdict: view.heap?.verdict ?? "Collecting",
    });
  }
  const scheduler = new ScrapeScheduler({
    concurrency: 32,
    clock: { now: () => start, setTimeout: () => 0, clearTimeout: () => undefined },
  });
  const jobKey = (w: TargetWatch): string => `${runtime.key}|${w.target.key}`;
  for (const w of watches) {
    scheduler.upsert(jobKey(w), settings.intervalMs, async () =>
      Promise.resolve(w.failures > 0 ? { delayMs: 1 } : undefined),
    );
  }

  // Weigh each part by what a full GC frees when it goes: exact, unlike weighing what was added
  // (which also counts the code and type feedback V8 builds along the way).
  const lines: BudgetLine[] = [];
  let last = weighAfterGc();
  const line = (part: string, from: Weight, to: Weight, counted: boolean): BudgetLine => {
    const offHeap = (from.offHeap - to.offHeap) / targets;
    return {
      part,
      bytesPerTarget: (from.heap - to.heap) / targets + offHeap,
      offHeapBytesPerTarget: offHeap,
      counted,
    };
  };
  const freed = (part: string, counted = true): void => {
    const now = weighAfterGc();
    lines.push(line(part, last, now, counted));
    last = now;
  };
  await scheduler.stop(); // drops the jobs and the timer heap's entries
  freed("scheduler job");
  for (const w of watches) metrics.removeTarget(labels(w));
  freed("Prometheus series (heap, growth, goroutines, verdict)");
  for (const w of watches) {
    const internals = w as unknown as WatchInternals;
    internals.baseline = undefined;
    internals.nextBaseline = undefined;
  }
  freed(BASELINES_PART);
  const empty = createSeriesState();
  for (const w of watches) {
    const internals = w as unknown as WatchInternals;
    internals.series = empty;
    internals.assessment = undefined;
  }
  freed("(the stand-in's fresh detector series: replaced by the line below)", false);
  runtime.targets.clear();
  watches = [];
  freed("TargetWatch (its own fields)");
  discovered = [];
  freed("Target (discovery result)");
  cache = new Map();
  freed("pod in the informer cache (trimmed)");
  if (watches.length + discovered.length + cache.size + scheduler.size < 0) console.log(metrics);

  // The detector's state as a long-running replica holds it: restored from `historyHours` of
  // history, then an hour of live samples on top (blocks and buckets close, the tiers run).
  if (historyHours > 0) {
    // Each target's history at its own level (large for 1 in 10, as its live samples below): a
    // history at the other level would read as a drop, start a new segment and drop the history.
    let states = Array.from({ length: targets }, (_, i) => {
      const x = series[Math.floor(i / 10) % series.length];
      return restoreSeriesState((i % 10 === 0 ? x?.large : x?.small) ?? "");
    });
    for (let t = start + 60_000; t <= start + 3_600_000; t += 60_000) {
      for (const [i, state] of states.entries()) {
        const level = i % 10 === 0 ? profiles.inuse.large : profiles.inuse.small;
        const heapInuseBytes = Math.round(level * (1 + ((t / 60_000) % 7) / 100));
        observe(state, { t, heapInuseBytes, goroutines: 33 }, detector);
      }
    }
    last = weighAfterGc();
    const before = last;
    // Same arrays under a new identity: the tier memo (a WeakMap keyed by the state) is released.
    states = states.map((x) => ({ ...x }));
    freed("  of which the tier memo", false);
    states = states.map((x) => restoreSeriesState(serializeSeriesState(x)));
    freed("  of which spare array capacity (push growth)", false);
    states = [];
    freed("  of which the series itself (exact-size arrays) and last assessment", false);
    lines.splice(
      lines.length - 3,
      0,
      line(`detector series after ${historyHours} h + 1 h live`, before, last, true),
    );
    if (states.length < 0) console.log(states);
  }
  return lines;
}

/** The bytes per target of one part, by name (0 when absent). */
export function budgetPart(lines: readonly BudgetLine[], part: string): number {
  return lines.find((l) => l.part === part)?.bytesPerTarget ?? 0;
}

export function budgetTotal(lines: readonly BudgetLine[]): number {
  return lines.reduce((s, l) => s + (l.counted ? l.bytesPerTarget : 0), 0);
}

export function formatBudget(lines: readonly BudgetLine[], targets: number): string {
  const total = budgetTotal(lines);
  const offHeap = lines.reduce((s, l) => s + (l.counted ? l.offHeapBytesPerTarget : 0), 0);
  const width = Math.max(...lines.map((l) => l.part.length), 5);
  const kib = (bytes: number): string => (bytes / 1024).toFixed(2).padStart(6);
  const row = (part: string, bytes: number, off: number): string =>
    `  ${part.padEnd(width)}  ${kib(bytes)} KiB  ${kib(off)} KiB`;
  return [
    `Retained memory per target (V8 heap + ArrayBuffers after a full GC, ${targets.toLocaleString("en-US")} targets built with the controller's code):`,
    `  ${"".padEnd(width)}  ${"total".padStart(10)}  ${"off-heap".padStart(10)}`,
    ...lines.map((l) => row(l.part, l.bytesPerTarget, l.offHeapBytesPerTarget)),
    row("total", total, offHeap),
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      targets: { type: "string", default: "2000" },
      history: { type: "string", default: "48" },
      json: { type: "boolean", default: false },
    },
  });
  const targets = Number(values.targets);
  const lines = await measureBudget(targets, Number(values.history));
  console.log(values.json ? JSON.stringify(lines) : formatBudget(lines, targets));
}
