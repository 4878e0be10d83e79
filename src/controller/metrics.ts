// Prometheus metrics. Per-pod series (heap, growth) are removed when the pod stops being watched,
// so a churning fleet does not grow the registry without bound.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface TargetLabels {
  namespace: string;
  leakwatch: string;
  pod: string;
  container: string;
}

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly scrapes = new Counter({
    name: "leakwatch_scrapes_total",
    help: "Profile scrapes by profile kind and result (ok, timeout, refused, http_status, too_large, memory_budget, bad_profile, error).",
    labelNames: ["kind", "result"] as const,
    registers: [this.registry],
  });
  readonly scrapeDuration = new Histogram({
    name: "leakwatch_scrape_duration_seconds",
    help: "Wall time of one scrape of one target (heap and goroutine profiles, decode included).",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly scheduleLag = new Histogram({
    name: "leakwatch_scrape_schedule_lag_seconds",
    help: "How late scrapes start against their schedule (concurrency limit, event-loop load).",
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: "leakwatch_reconcile_duration_seconds",
    help: "Time per LeakWatch reconcile, by result.",
    labelNames: ["result"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "leakwatch_workqueue_depth",
    help: "LeakWatch keys waiting to be reconciled.",
    registers: [this.registry],
  });
  readonly targets = new Gauge({
    name: "leakwatch_targets",
    help: "Watched containers by LeakWatch and verdict.",
    labelNames: ["namespace", "leakwatch", "verdict"] as const,
    registers: [this.registry],
  });
  readonly heapInuse = new Gauge({
    name: "leakwatch_heap_inuse_bytes",
    help: "In-use heap of a watched container at its last scrape.",
    labelNames: ["namespace", "leakwatch", "pod", "container"] as const,
    registers: [this.registry],
  });
  readonly heapGrowth = new Gauge({
    name: "leakwatch_heap_growth_bytes_per_hour",
    help: "Robust heap growth rate of a watched container over the detection window.",
    labelNames: ["namespace", "leakwatch", "pod", "container"] as const,
    registers: [this.registry],
  });
  readonly goroutines = new Gauge({
    name: "leakwatch_goroutines",
    help: "Goroutines of a watched container at its last scrape.",
    labelNames: ["namespace", "leakwatch", "pod", "container"] as const,
    registers: [this.registry],
  });
  readonly verdict = new Gauge({
    name: "leakwatch_target_verdict",
    help: "1, labelled with the current verdict of a watched container (Collecting, Healthy, Suspected, Leaking, Failing); one series per container.",
    labelNames: ["namespace", "leakwatch", "pod", "container", "verdict"] as const,
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: "leakwatch_events_total",
    help: "Kubernetes Events recorded, by reason.",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly captures = new Counter({
    name: "leakwatch_captures_total",
    help: "Captures stored, by result (stored, failed, refused).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly restarts = new Counter({
    name: "leakwatch_restarts_total",
    help: "Restart decisions, by strategy and result (restarted, blocked, dry_run, skipped).",
    labelNames: ["strategy", "result"] as const,
    registers: [this.registry],
  });
  readonly apiWrites = new Counter({
    name: "leakwatch_api_writes_total",
    help: "Writes to the API server, by what was written (status, state, event, capture, restart).",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: "leakwatch_leader",
    help: "1 while this replica holds the leader lease.",
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  private static readonly VERDICTS = ["Collecting", "Healthy", "Suspected", "Leaking", "Failing"] as const;
  /** The verdict each container's `leakwatch_target_verdict` series carries now. */
  private readonly currentVerdicts = new Map<string, string>();

  setTarget(
    labels: TargetLabels,
    values: { heapBytes?: number; growthPerHour?: number | null; goroutines?: number; verdict: string },
  ): void {
    if (values.heapBytes !== undefined) this.heapInuse.set(labels, values.heapBytes);
    if (values.growthPerHour !== undefined && values.growthPerHour !== null)
      this.heapGrowth.set(labels, values.growthPerHour);
    if (values.goroutines !== undefined) this.goroutines.set(labels, values.goroutines);
    // One series per container, for its current verdict: a change removes the old one.
    const key = targetKey(labels);
    const previous = this.currentVerdicts.get(key);
    if (previous === values.verdict) return;
    if (previous !== undefined) this.verdict.remove({ ...labels, verdict: previous });
    this.verdict.set({ ...labels, verdict: values.verdict }, 1);
    this.currentVerdicts.set(key, values.verdict);
  }

  removeTarget(labels: TargetLabels): void {
    this.heapInuse.remove(labels);
    this.heapGrowth.remove(labels);
    this.goroutines.remove(labels);
    const key = targetKey(labels);
    const previous = this.currentVerdicts.get(key);
    if (previous !== undefined) this.verdict.remove({ ...labels, verdict: previous });
    this.currentVerdicts.delete(key);
  }

  setVerdictCounts(namespace: string, leakwatch: string, counts: Readonly<Record<string, number>>): void {
    for (const verdict of ControllerMetrics.VERDICTS)
      this.targets.set({ namespace, leakwatch, verdict }, counts[verdict] ?? 0);
  }

  removeLeakWatch(namespace: string, leakwatch: string): void {
    for (const verdict of ControllerMetrics.VERDICTS) this.targets.remove({ namespace, leakwatch, verdict });
  }
}

function targetKey(l: TargetLabels): string {
  return `${l.namespace}/${l.leakwatch}/${l.pod}/${l.container}`;
}
