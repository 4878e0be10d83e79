// One leadership term of the controller: informers, the work queue, the scrape scheduler and the
// stores, started when this replica becomes leader and stopped (state persisted) when it stops.
import type { CaptureRef, LeakWatch } from "../api/types.ts";
import { toCaptureRef, ConfigMapCaptureStore } from "../kube/captures.ts";
import type { KubeClient } from "../kube/client.ts";
import { EventRecorder } from "../kube/events.ts";
import { Informer } from "../kube/informer.ts";
import type { Logger } from "../kube/logger.ts";
import { SecretReader } from "../kube/secrets.ts";
import { StateStore } from "../kube/statestore.ts";
import { StatusWriter } from "../kube/status.ts";
import { WorkQueue } from "../kube/workqueue.ts";
import { ProfileError, DEFAULT_LIMITS, InflightBudget, type ProfileLimits } from "../profile/index.ts";
import { actOnFailure, actOnScrape, type ActionContext } from "./actions.ts";
import type { ControllerConfig } from "./config.ts";
import { heapCeilingBytes } from "./memory-model.ts";
import type { ControllerMetrics } from "./metrics.ts";
import { PodInformers } from "./pod-informers.ts";
import { persistIfDue, reconcileLeakWatch, writeStatusNow, type ReconcileHost } from "./reconciler.ts";
import { RestartCoordinator } from "./restarts.ts";
import type { LeakWatchRuntime } from "./runtime.ts";
import { ScrapeScheduler } from "./scheduler.ts";
import { scrapeErrorKind, sourceFor, type Credentials } from "./source.ts";
import type { TargetWatch } from "./target-watch.ts";

export interface ControllerDeps {
  client: KubeClient;
  config: ControllerConfig;
  metrics: ControllerMetrics;
  logger: Logger;
  now?: () => number;
}

/** Longest delay between scrapes of a failing target, in intervals. */
const MAX_BACKOFF_INTERVALS = 8;

export class Controller implements ReconcileHost {
  readonly config: ControllerConfig;
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  readonly runtimes = new Map<string, LeakWatchRuntime>();
  readonly podInformers: PodInformers;
  readonly status: StatusWriter;
  readonly events: EventRecorder;
  readonly captures: ConfigMapCaptureStore;
  readonly now: () => number;
  private readonly client: KubeClient;
  private readonly leakWatches: Informer<LeakWatch>[];
  private readonly queue: WorkQueue;
  private readonly scheduler: ScrapeScheduler;
  private readonly secrets: SecretReader;
  private readonly stateStores = new Map<string, StateStore>();
  private readonly restarts: RestartCoordinator;
  /** Inflated profile bytes all scrapes in flight hold together (--max-inflight-profile-bytes). */
  private readonly inflight: InflightBudget;
  /** A profile may not inflate past the whole budget: it could never get the room. */
  private readonly limits: ProfileLimits;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(deps: ControllerDeps) {
    this.client = deps.client;
    this.config = deps.config;
    this.metrics = deps.metrics;
    this.logger = deps.logger;
    this.inflight = new InflightBudget(this.config.maxInflightProfileBytes);
    this.limits = {
      ...DEFAULT_LIMITS,
      maxDecompressedBytes: Math.min(
        DEFAULT_LIMITS.maxDecompressedBytes,
        this.config.maxInflightProfileBytes,
      ),
    };
    this.now = deps.now ?? Date.now;
    this.status = new StatusWriter({
      client: this.client,
      minIntervalMs: this.config.statusMinIntervalMs,
      logger: this.logger,
    });
    this.events = new EventRecorder({
      client: this.client,
      reportingInstance: this.config.identity.slice(0, 128),
      logger: this.logger,
    });
    this.captures = new ConfigMapCaptureStore({ client: this.client, logger: this.logger });
    this.secrets = new SecretReader(this.client);
    this.restarts = new RestartCoordinator({
      client: this.client,
      events: this.events,
      metrics: this.metrics,
      logger: this.logger,
      now: this.now,
      identity: this.config.identity,
      persistRecords: async (runtime) => {
        const lw = this.leakWatch(runtime.key);
        if (lw === undefined) throw new Error(`LeakWatch ${runtime.key} is gone`);
        await writeStatusNow(this, runtime, lw, true);
      },
      pods: (runtime) => this.podInformers.peek(runtime.ref.namespace),
    });
    this.queue = new WorkQueue({
      name: "leakwatch",
      concurrency: this.config.reconcileConcurrency,
      reconcile: (key, ctx) => reconcileLeakWatch(this, key, ctx),
      logger: this.logger,
      metrics: {
        depth: (d) => {
          this.metrics.queueDepth.set(d);
        },
        reconciled: (_key, outcome, ms) => {
          this.metrics.reconcileDuration.observe({ result: outcome }, ms / 1000);
        },
      },
    });
    this.scheduler = new ScrapeScheduler({
      concurrency: this.config.concurrency,
      onStart: (_key, lagMs) => {
        this.metrics.scheduleLag.observe(lagMs / 1000);
      },
      onError: (key, err) => {
        this.logger.error({ target: key, err: String(err) }, "scrape job failed unexpectedly");
      },
    });
    this.podInformers = new PodInformers({
      client: this.client,
      logger: this.logger,
      onChange: (namespace) => {
        this.enqueueNamespace(namespace);
      },
    });
    const paths =
      this.config.namespaces.length === 0
        ? ["/apis/leakwatch.dev/v1alpha1/leakwatches"]
        : this.config.namespaces.map((ns) => `/apis/leakwatch.dev/v1alpha1/namespaces/${ns}/leakwatches`);
    this.leakWatches = paths.map(
      (path) =>
        new Informer<LeakWatch>({
          client: this.client,
          path,
          trim: (raw) => raw as unknown as LeakWatch,
          logger: this.logger,
          name: "leakwatches",
        }),
    );
    for (const informer of this.leakWatches) {
      const onChange = (lw: LeakWatch): void => {
        this.status.observe(lw);
        this.queue.add(`${lw.metadata.namespace}/${lw.metadata.name}`);
      };
      informer.on("add", onChange);
      informer.on("update", onChange);
      informer.on("delete", onChange);
    }
  }

  start(): void {
    for (const informer of this.leakWatches) informer.start();
    this.flushTimer = setInterval(() => {
      void this.events.flush();
    }, 60_000);
    this.flushTimer.unref();
  }

  get synced(): boolean {
    return this.leakWatches.every((i) => i.synced);
  }

  informers(): Informer<unknown>[] {
    return [...this.leakWatches, ...this.podInformers.all()] as Informer<unknown>[];
  }

  leakWatch(key: string): LeakWatch | undefined {
    for (const informer of this.leakWatches) {
      const lw = informer.get(key);
      if (lw !== undefined) return lw;
    }
    return undefined;
  }

  /** Stops scraping and reconciling; with `persist`, saves detector state first (graceful hand-over). */
  async stop(persist: boolean): Promise<void> {
    if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
    await this.scheduler.stop();
    await this.queue.shutdown({ graceMs: 5_000 });
    if (persist) {
      for (const runtime of this.runtimes.values()) {
        try {
          await persistIfDue(this, runtime, true);
        } catch (err) {
          this.logger.warn(
            { leakwatch: runtime.key, err: String(err) },
            "could not persist detector state at shutdown",
          );
        }
      }
      await this.events.flush({ force: true });
    }
    await Promise.all(this.leakWatches.map((i) => i.stop()));
    await this.podInformers.stopAll();
  }

  private enqueueNamespace(namespace: string): void {
    for (const key of this.runtimes.keys()) if (key.startsWith(`${namespace}/`)) this.queue.add(key);
  }

  stateStore(runtime: LeakWatchRuntime): StateStore {
    let store = this.stateStores.get(runtime.key);
    if (store === undefined) {
      store = new StateStore({ client: this.client, owner: runtime.ref, logger: this.logger });
      this.stateStores.set(runtime.key, store);
    }
    return store;
  }

  async listCaptures(runtime: LeakWatchRuntime): Promise<CaptureRef[]> {
    return (await this.captures.list(runtime.ref.namespace, runtime.ref.name)).map(toCaptureRef);
  }

  async sweepOrphans(runtime: LeakWatchRuntime, graceMs: number): Promise<void> {
    try {
      const removed = await this.captures.sweepOrphans(runtime.ref.namespace, graceMs);
      if (removed.length > 0)
        this.logger.info({ leakwatch: runtime.key, removed }, "removed orphaned capture parts");
    } catch (err) {
      this.logger.warn({ leakwatch: runtime.key, err: String(err) }, "capture sweep failed");
    }
  }

  async dispose(runtime: LeakWatchRuntime): Promise<void> {
    this.unschedule(runtime, runtime.clearTargets());
    this.runtimes.delete(runtime.key);
    this.stateStores.delete(runtime.key);
    this.status.forget(runtime.ref);
    this.metrics.removeLeakWatch(runtime.ref.namespace, runtime.ref.name);
    await this.podInformers.release(runtime.ref.namespace, runtime.key);
  }

  unschedule(runtime: LeakWatchRuntime, watches: readonly TargetWatch[]): void {
    for (const watch of watches) {
      this.scheduler.remove(jobKey(runtime, watch));
      this.metrics.removeTarget(targetLabels(runtime, watch));
    }
  }

  schedule(runtime: LeakWatchRuntime, watch: TargetWatch): void {
    const settings = runtime.settings;
    if (settings === undefined) return;
    this.scheduler.upsert(jobKey(runtime, watch), settings.intervalMs, async (signal) =>
      this.scrape(runtime, watch, signal),
    );
  }

  private async credentials(runtime: LeakWatchRuntime, signal: AbortSignal): Promise<Credentials> {
    const target = runtime.settings?.target;
    const ns = runtime.ref.namespace;
    const creds: Credentials = {};
    if (target?.bearerTokenSecret !== undefined) {
      creds.bearerToken = await this.secrets.read(
        ns,
        target.bearerTokenSecret.name,
        target.bearerTokenSecret.key,
        signal,
      );
    }
    if (target?.caSecret !== undefined)
      creds.ca = await this.secrets.read(ns, target.caSecret.name, target.caSecret.key, signal);
    return creds;
  }

  private actionContext(runtime: LeakWatchRuntime): ActionContext | undefined {
    const settings = runtime.settings;
    if (settings === undefined) return undefined;
    return {
      leakWatch: runtime.ref,
      windowMs: settings.detection.windowMs,
      captureMaxBytes: settings.captures.maxBytes,
      captureKeep: settings.captures.keep,
      events: this.events,
      captures: this.captures,
      metrics: this.metrics,
      logger: this.logger,
      now: this.now,
      onCaptures: (refs) => {
        runtime.captures = refs;
        runtime.statusDirty = true;
        this.queue.add(runtime.key);
      },
    };
  }

  /** The target is still watched (its pod not removed, its LeakWatch not deleted or replaced). */
  private watching(runtime: LeakWatchRuntime, watch: TargetWatch): boolean {
    return this.runtimes.get(runtime.key) === runtime && runtime.targets.get(watch.target.key) === watch;
  }

  /** One scheduled scrape of one target, its verdict, and what is owed for it. */
  private async scrape(
    runtime: LeakWatchRuntime,
    watch: TargetWatch,
    signal: AbortSignal,
  ): Promise<{ delayMs?: number } | undefined> {
    const settings = runtime.settings;
    const detector = runtime.detector;
    const actions = this.actionContext(runtime);
    if (
      settings === undefined ||
      detector === undefined ||
      actions === undefined ||
      !this.watching(runtime, watch)
    ) {
      return undefined;
    }
    const labels = targetLabels(runtime, watch);
    const before = watch.view();
    const started = performance.now();
    // Held from the first inflated byte until the scrape's profiles are dropped (this returns).
    const lease = this.inflight.lease();
    try {
      const ceiling = heapCeilingBytes(watch.target.memoryLimitBytes, settings.detection);
      const result = await watch.scrape(
        {
          settings,
          detector: ceiling === undefined ? detector : { ...detector, heapCeilingBytes: ceiling },
          source: sourceFor(settings.target.via, this.client),
          limits: this.limits,
          allowance: lease,
          weighSamplingError: this.config.weighSamplingError,
          credentials: async () => this.credentials(runtime, signal),
        },
        this.now,
        signal,
      );
      this.metrics.scrapeDuration.observe((performance.now() - started) / 1000);
      this.metrics.scrapes.inc({ kind: "heap", result: "ok" });
      // The pod went away while it was being scraped: its series are gone, and stay gone.
      if (!this.watching(runtime, watch)) return undefined;
      if (result.goroutines !== undefined) this.metrics.scrapes.inc({ kind: "goroutine", result: "ok" });
      const view = watch.view();
      this.metrics.setTarget(labels, {
        ...(view.heapBytes === undefined ? {} : { heapBytes: view.heapBytes }),
        growthPerHour: result.assessment.heap.slopePerHour,
        ...(view.goroutineCount === undefined ? {} : { goroutines: view.goroutineCount }),
        verdict: result.assessment.heap.verdict,
      });
      // A moved verdict is recorded (status, persisted state) while the actions run, not after:
      // a crash during a capture or a restart then still restarts from the new verdict.
      if (changed(before, view)) this.queue.add(runtime.key);
      await actOnScrape(watch, result, actions);
      if (settings.action.mode === "Restart") await this.restarts.consider(runtime, watch, result, signal);
      return undefined;
    } catch (err) {
      if (signal.aborted || !this.watching(runtime, watch)) return undefined;
      const message = err instanceof Error ? err.message : String(err);
      watch.recordFailure(message);
      this.metrics.scrapes.inc({ kind: "heap", result: scrapeErrorKind(err) });
      this.metrics.setTarget(labels, { verdict: "Failing" });
      if (!(err instanceof ProfileError))
        this.logger.debug({ target: watch.target.key, err: message }, "scrape failed");
      await actOnFailure(watch, actions);
      if (watch.failures === 1 || watch.failures === 3) this.queue.add(runtime.key);
      // Back off: 1, 2, 4 … up to 8 intervals between attempts at a failing target.
      const factor = Math.min(2 ** (watch.failures - 1), MAX_BACKOFF_INTERVALS);
      return { delayMs: settings.intervalMs * factor };
    } finally {
      lease.release();
    }
  }
}

function changed(before: ReturnType<TargetWatch["view"]>, after: ReturnType<TargetWatch["view"]>): boolean {
  return (
    before.heap?.verdict !== after.heap?.verdict ||
    before.goroutines?.verdict !== after.goroutines?.verdict ||
    (before.failing === undefined) !== (after.failing === undefined)
  );
}

function jobKey(runtime: LeakWatchRuntime, watch: TargetWatch): string {
  return `${runtime.key}|${watch.target.key}`;
}

function targetLabels(
  runtime: LeakWatchRuntime,
  watch: TargetWatch,
): { namespace: string; leakwatch: string; pod: string; container: string } {
  return {
    namespace: runtime.ref.namespace,
    leakwatch: runtime.ref.name,
    pod: watch.target.pod,
    container: watch.target.container,
  };
}
