// Controlled restarts (action.mode: Restart): after each scrape of a leaking target, decide with
// restart-policy.ts and, if allowed, record the restart (persisted in status first) and act through
// the Eviction API or a rollout restart. Only the leader runs this.
import type { RestartRecord } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import type { Logger } from "../kube/logger.ts";
import type { ControllerMetrics } from "./metrics.ts";
import type { LeakWatchRuntime } from "./runtime.ts";
import type { ScrapeResult, TargetWatch } from "./target-watch.ts";

export interface RestartDeps {
  client: KubeClient;
  events: EventRecorder;
  metrics: ControllerMetrics;
  logger: Logger;
  now: () => number;
  /** This replica (goes into the restart record). */
  identity: string;
  /** Writes the runtime's restart records into the LeakWatch status and resolves once stored. */
  persistRecords: (runtime: LeakWatchRuntime) => Promise<void>;
}

export class RestartCoordinator {
  private readonly deps: RestartDeps;

  constructor(deps: RestartDeps) {
    this.deps = deps;
  }

  /** Called after every successful scrape (and its events/captures) of a Restart-mode LeakWatch's target. */
  async consider(
    runtime: LeakWatchRuntime,
    watch: TargetWatch,
    result: ScrapeResult,
    signal: AbortSignal,
  ): Promise<void> {
    void runtime;
    void watch;
    void result;
    void signal;
    void this.deps;
    await Promise.resolve();
  }
}

export type { RestartRecord };
