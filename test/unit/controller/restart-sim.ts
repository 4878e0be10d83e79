// A small simulated cluster for the restart coordinator: Deployments with ReplicaSets that
// recreate evicted pods and roll out new templates (surge one, never below the desired ready
// count), pods that start, become Ready and fall ill, workload statuses that lag, an API that fails
// in every way the coordinator must survive (429, 500, lost answers, crashes), a status store that
// refuses writes, and a clock that jumps. The real RestartCoordinator runs against it; the world
// checks the guardrails at the moment each restart actually happens.
import { Counter } from "prom-client";
import type { RestartSettings, WatchSettings } from "../../../src/api/defaults.ts";
import { resolveSpec } from "../../../src/api/defaults.ts";
import type { LeakWatch, LeakWatchSpec, RestartRecord } from "../../../src/api/types.ts";
import { criticalHorizonMs, inAnyWindow, triggered } from "../../../src/controller/restart-policy.ts";
import { RestartCoordinator, type PodCache } from "../../../src/controller/restarts.ts";
import { LeakWatchRuntime } from "../../../src/controller/runtime.ts";
import type { Target } from "../../../src/controller/targets.ts";
import { TargetWatch } from "../../../src/controller/target-watch.ts";
import type { CallOptions } from "../../../src/kube/client.ts";
import { KubeApiError, KubeConnectionError } from "../../../src/kube/errors.ts";
import type { EventInput, EventOutcome } from "../../../src/kube/events.ts";
import type { InformerHealth } from "../../../src/kube/informer.ts";
import { silentLogger } from "../../../src/kube/logger.ts";
import type { PodInfo } from "../../../src/kube/pods.ts";
import { RESTARTED_AT_ANNOTATION } from "../../../src/kube/workloads.ts";
import { heapAssessment, savedCapture } from "./restart-fixtures.ts";

export type ApiMode = "ok" | "429" | "500" | "lostBefore" | "lostAfter" | "crashBefore" | "crashAfter";

export interface SimStep {
  dtMs: number;
  /** Operator clock step (ms); negative steps are bounded by the scenario's maxStepBackMs. */
  jumpMs: number;
  restartOperator: boolean;
  pick: number;
  leaking: boolean;
  /** Projected minutes to the limit (null: no projection). */
  ttlMinutes: number | null;
  captured: boolean;
  /** Pods (by index) that fall ill or recover. */
  flips: number[];
  /** How the next mutating calls (eviction, rollout patch) go, in order; then "ok". */
  api: ApiMode[];
  /** How the next reads go, in order; then "ok". */
  reads: ("ok" | "fail")[];
  statusWrite: "ok" | "fail";
  /** The pod watch goes down for this many steps (0: no change); the cache freezes meanwhile. */
  watchDownFor: number;
  staleScrape: boolean;
}

export interface SimScenario {
  restart: NonNullable<NonNullable<LeakWatchSpec["action"]>["restart"]>;
  intervalS: number;
  replicas: number[];
  /** Every n-th pod created opts out (0: none); every m-th is snoozed for `snoozeMs`. */
  optOutEvery: number;
  snoozeEvery: number;
  snoozeMs: number;
  memoryLimitEvery: number;
  statusLagMs: number;
  /** How many one-second ticks the pod cache runs behind the world. */
  cacheLagTicks: number;
  /** How long a ReplicaSet takes to replace a pod that went away. */
  replicaSetLagMs: number;
  maxStepBackMs: number;
  steps: SimStep[];
}

interface SimPod {
  name: string;
  uid: string;
  deployment: string;
  template: number;
  createdAt: number;
  runningAt: number;
  readyAt: number;
  sick: boolean;
  deletingAt: number | undefined;
  goneAt: number | undefined;
  optOut: boolean;
  snoozeUntil: number | undefined;
  memoryLimit: boolean;
}

interface SimDeployment {
  name: string;
  uid: string;
  replicas: number;
  template: number;
  generation: number;
  restartedAt: string | undefined;
  /** When the ReplicaSet will create the pod it is missing. */
  createAt: number | undefined;
  status: { at: number; available: number; updated: number; observedGeneration: number };
}

interface Performed {
  pod: string;
  deployment: string;
  clock: number;
  kind: "Evict" | "RolloutRestart";
}

/** What the scrape being considered looked like (for the evidence and trigger invariants). */
interface Considering {
  pod: SimPod;
  leaking: boolean;
  hasLimit: boolean;
  ttlMs: number | null;
  captureStored: boolean;
}

const NAMESPACE = "sim";
const START = Date.UTC(2025, 0, 15, 8, 0, 0);

export class SimWorld {
  readonly violations: string[] = [];
  readonly performed: Performed[] = [];
  readonly events: EventInput[] = [];
  persisted: RestartRecord[] = [];
  readonly settings: WatchSettings;
  readonly restart: RestartSettings;
  private readonly scenario: SimScenario;
  private trueNow = START;
  private offset = 0;
  private maxClock = START;
  private readonly pods: SimPod[] = [];
  private readonly deployments: SimDeployment[] = [];
  private counter = 0;
  private apiQueue: ApiMode[] = [];
  private readQueue: ("ok" | "fail")[] = [];
  private statusWrite: "ok" | "fail" = "ok";
  private watchDown = false;
  private downSteps = 0;
  /** What the pod cache shows: the world a few ticks ago, and frozen while the watch is down. */
  private cacheHistory: PodInfo[][] = [];
  private frozen: PodInfo[] | undefined;
  private crashed = false;
  private considering: Considering | undefined;
  private runtime: LeakWatchRuntime;
  private coordinator: RestartCoordinator;
  private readonly lw: LeakWatch;
  private readonly metrics = {
    restarts: new Counter({
      name: "sim_restarts",
      help: "-",
      labelNames: ["strategy", "result"],
      registers: [],
    }),
    events: new Counter({ name: "sim_events", help: "-", labelNames: ["reason"], registers: [] }),
  };

  constructor(scenario: SimScenario) {
    this.scenario = scenario;
    const spec: LeakWatchSpec = {
      selector: {},
      interval: `${scenario.intervalS}s`,
      detection: { window: "2h", warmup: "1m" },
      action: { mode: "Restart", restart: scenario.restart },
    };
    this.settings = resolveSpec(spec);
    if (this.settings.action.mode !== "Restart") throw new Error("unreachable");
    this.restart = this.settings.action.restart;
    this.lw = {
      apiVersion: "leakwatch.dev/v1alpha1",
      kind: "LeakWatch",
      metadata: { name: "lw", namespace: NAMESPACE, uid: "uid-lw" },
      spec,
    };
    scenario.replicas.forEach((replicas, i) => {
      const d: SimDeployment = {
        name: `d${i}`,
        uid: `uid-d${i}`,
        replicas,
        template: 1,
        generation: 1,
        restartedAt: undefined,
        createAt: undefined,
        status: { at: START, available: 0, updated: 0, observedGeneration: 1 },
      };
      this.deployments.push(d);
      for (let k = 0; k < replicas; k++) this.createPod(d, START - 3_600_000, true);
      d.status = { at: START, available: replicas, updated: replicas, observedGeneration: 1 };
    });
    this.runtime = this.newRuntime([]);
    this.coordinator = this.newCoordinator();
  }

  /** The operator's clock: true time plus its steps. */
  clock(): number {
    return this.trueNow + this.offset;
  }

  async run(): Promise<void> {
    for (const step of this.scenario.steps) await this.step(step);
  }

  async step(step: SimStep): Promise<void> {
    this.advance(step.dtMs);
    if (step.jumpMs !== 0) {
      const target = this.clock() + step.jumpMs;
      const floor = this.maxClock - this.scenario.maxStepBackMs;
      this.offset += Math.max(target, floor) - this.clock();
    }
    this.maxClock = Math.max(this.maxClock, this.clock());
    for (const i of step.flips) {
      const live = this.pods.filter((p) => p.goneAt === undefined);
      const p = live[i % Math.max(1, live.length)];
      if (p === undefined) continue;
      p.sick = !p.sick;
      // Illness shows in the cache at once: no decision can know what it cannot see yet. The
      // cache's lag is exercised on what the controllers (and the coordinator) do.
      if (p.sick) for (const info of this.cacheHistory.flat()) if (info.uid === p.uid) info.ready = false;
    }
    if (step.restartOperator || this.crashed) this.restartOperator();
    this.apiQueue = [...step.api];
    this.readQueue = [...step.reads];
    this.statusWrite = step.statusWrite;
    this.downSteps = Math.max(this.downSteps - 1, step.watchDownFor);
    this.watchDown = this.downSteps > 0;
    this.frozen = this.watchDown ? (this.frozen ?? this.cached()) : undefined;
    const targets = this.syncTargets();
    const watch = targets[step.pick % Math.max(1, targets.length)];
    if (watch === undefined) return;
    const pod = this.pods.find((p) => p.uid === watch.target.podUID);
    if (pod === undefined) return;
    if (step.leaking && step.captured && watch.episode.capture === undefined) {
      watch.episode.capture = savedCapture(`cap-${this.counter++}`, pod.name);
    }
    const ttlMs = step.ttlMinutes === null ? null : step.ttlMinutes * 60_000;
    this.considering = {
      pod,
      leaking: step.leaking,
      hasLimit: pod.memoryLimit,
      ttlMs: pod.memoryLimit ? ttlMs : null,
      captureStored: watch.episode.capture !== undefined,
    };
    const at = step.staleScrape ? this.clock() - 10 * this.settings.intervalMs : this.clock();
    const heap = heapAssessment({ verdict: step.leaking ? "Leaking" : "Suspected", timeToCeilingMs: ttlMs });
    await this.coordinator.consider(
      this.runtime,
      watch,
      { at, assessment: { t: at, heap, goroutines: heapAssessment({ verdict: "Healthy" }) } },
      new AbortController().signal,
    );
    this.considering = undefined;
    if (this.persisted.length > 64) this.violations.push(`status holds ${this.persisted.length} records`);
  }

  /** Drops everything in memory; only what reached the status survives. */
  restartOperator(): void {
    this.crashed = false;
    this.runtime = this.newRuntime(this.persisted.map((r) => ({ ...r })));
    this.coordinator = this.newCoordinator();
  }

  private newRuntime(records: RestartRecord[]): LeakWatchRuntime {
    const runtime = new LeakWatchRuntime(this.lw);
    runtime.configure(this.settings);
    runtime.restarts = records;
    runtime.loaded = true;
    return runtime;
  }

  private newCoordinator(): RestartCoordinator {
    return new RestartCoordinator({
      client: {
        get: async <T>(path: string, options?: CallOptions) => this.get<T>(path, options),
        create: async <T>(path: string, body: unknown) => this.create<T>(path, body),
        patch: async <T>(path: string, body: unknown) => this.patch<T>(path, body),
      },
      events: {
        record: async (input: EventInput): Promise<EventOutcome> => {
          await Promise.resolve();
          this.events.push(input);
          return { result: "created", name: "e", count: 1 };
        },
      },
      metrics: this.metrics,
      logger: silentLogger,
      now: () => this.clock(),
      identity: "sim-operator",
      persistRecords: async (runtime) => {
        await Promise.resolve();
        if (this.crashed) throw new KubeConnectionError("the operator is gone");
        if (this.statusWrite === "fail") throw new KubeApiError(apiFailure("PATCH", "status", 500));
        if (runtime !== this.runtime) throw new Error("a stale runtime wrote status");
        this.persisted = runtime.restarts.map((r) => ({ ...r }));
      },
      pods: (): PodCache => ({
        list: () => this.frozen ?? this.cached(),
        health: (): InformerHealth => ({
          synced: true,
          watching: !this.watchDown,
          lastEventAt: this.clock(),
          downSince: this.watchDown ? this.clock() - 60_000 : undefined,
          lastError: undefined,
          restarts: 0,
          relists: 0,
          handlerErrors: 0,
        }),
      }),
    });
  }

  // --- the world -----------------------------------------------------------------------------

  private createPod(d: SimDeployment, at: number, ready: boolean): SimPod {
    const n = this.counter++;
    const startDelay = 1_000 + (n % 5) * 1_000;
    const readyDelay = 2_000 + ((n * 7) % 20) * 1_000;
    const p: SimPod = {
      name: `${d.name}-t${d.template}-${n}`,
      uid: `uid-${n}`,
      deployment: d.name,
      template: d.template,
      createdAt: at,
      runningAt: ready ? at : at + startDelay,
      readyAt: ready ? at : at + startDelay + readyDelay,
      sick: false,
      deletingAt: undefined,
      goneAt: undefined,
      optOut: this.scenario.optOutEvery > 0 && n % this.scenario.optOutEvery === 0,
      snoozeUntil:
        this.scenario.snoozeEvery > 0 && n % this.scenario.snoozeEvery === 0
          ? START + this.scenario.snoozeMs
          : undefined,
      memoryLimit: this.scenario.memoryLimitEvery > 0 && n % this.scenario.memoryLimitEvery === 0,
    };
    this.pods.push(p);
    return p;
  }

  private running(p: SimPod, t = this.trueNow): boolean {
    return p.goneAt === undefined && t >= p.runningAt;
  }

  private ready(p: SimPod, t = this.trueNow): boolean {
    return p.goneAt === undefined && p.deletingAt === undefined && !p.sick && t >= p.readyAt;
  }

  private live(d: SimDeployment): SimPod[] {
    return this.pods.filter((p) => p.deployment === d.name && p.goneAt === undefined);
  }

  /** Moves true time on in one-second ticks: deletions finish, ReplicaSets and rollouts act. */
  private advance(dtMs: number): void {
    const end = this.trueNow + dtMs;
    while (this.trueNow < end) {
      this.trueNow = Math.min(end, this.trueNow + 1_000);
      for (const p of this.pods) {
        if (p.deletingAt !== undefined && p.goneAt === undefined && this.trueNow >= p.deletingAt + 1_000) {
          p.goneAt = this.trueNow;
        }
      }
      for (const d of this.deployments) this.reconcileDeployment(d);
      if (this.scenario.cacheLagTicks > 0) {
        this.cacheHistory.push(this.podInfos());
        if (this.cacheHistory.length > this.scenario.cacheLagTicks) this.cacheHistory.shift();
      }
    }
    const gone = this.pods.filter((p) => p.goneAt !== undefined && this.trueNow - p.goneAt > 3_600_000);
    for (const p of gone) this.pods.splice(this.pods.indexOf(p), 1);
  }

  private reconcileDeployment(d: SimDeployment): void {
    const active = this.live(d).filter((p) => p.deletingAt === undefined);
    const old = active.filter((p) => p.template < d.template);
    const readyActive = active.filter((p) => this.ready(p)).length;
    const want = d.replicas + (old.length > 0 ? 1 : 0); // surge one during a rollout
    if (active.length < want) {
      d.createAt ??= this.trueNow + this.scenario.replicaSetLagMs;
      if (this.trueNow >= d.createAt) {
        this.createPod(d, this.trueNow, false);
        d.createAt = undefined;
      }
    }
    const oldest = old[0];
    if (oldest !== undefined && readyActive > d.replicas) oldest.deletingAt = this.trueNow;
    if (this.trueNow - d.status.at >= this.scenario.statusLagMs) {
      d.status = {
        at: this.trueNow,
        available: readyActive,
        updated: active.filter((p) => p.template === d.template).length,
        observedGeneration: d.generation,
      };
    }
  }

  private cached(): PodInfo[] {
    return this.scenario.cacheLagTicks > 0 ? (this.cacheHistory[0] ?? this.podInfos()) : this.podInfos();
  }

  private podInfos(): PodInfo[] {
    return this.pods
      .filter((p) => p.goneAt === undefined)
      .map((p) => {
        const annotations: Record<string, string> = { "leakwatch.dev/scrape": "true" };
        if (p.optOut) annotations["leakwatch.dev/restart"] = "false";
        if (p.snoozeUntil !== undefined)
          annotations["leakwatch.dev/snooze-until"] = new Date(p.snoozeUntil).toISOString();
        const running = this.running(p);
        return {
          namespace: NAMESPACE,
          name: p.name,
          uid: p.uid,
          resourceVersion: "1",
          labels: { app: p.deployment, "pod-template-hash": `t${p.template}` },
          annotations,
          owner: {
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            name: `${p.deployment}-t${p.template}`,
            uid: `uid-${p.deployment}-t${p.template}`,
          },
          podIP: "10.0.0.1",
          phase: running ? "Running" : "Pending",
          deleting: p.deletingAt !== undefined,
          ready: this.ready(p),
          containers: [{ name: "app", image: "app", ports: [], memoryLimitBytes: undefined }],
          containerStatuses: running
            ? [
                {
                  name: "app",
                  started: true,
                  ready: this.ready(p),
                  restartCount: 0,
                  startedAt: p.runningAt,
                  lastTerminationReason: undefined,
                  lastTerminatedAt: undefined,
                },
              ]
            : [],
        };
      });
  }

  /** Running, not deleting pods are targets, each with its watch (kept while the pod lives). */
  private syncTargets(): TargetWatch[] {
    const watches: TargetWatch[] = [];
    const seen = new Set<string>();
    for (const p of this.pods) {
      if (!this.running(p) || p.deletingAt !== undefined) continue;
      const key = `${NAMESPACE}/${p.name}/app`;
      seen.add(key);
      const target: Target = {
        key,
        namespace: NAMESPACE,
        pod: p.name,
        podUID: p.uid,
        container: "app",
        image: "app",
        owner: {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: `${p.deployment}-t${p.template}`,
          uid: `uid-${p.deployment}-t${p.template}`,
        },
        workload: { kind: "Deployment", name: p.deployment },
        address: "10.0.0.1",
        port: 6060,
        scheme: "http",
        heapPath: "/debug/pprof/heap",
        goroutinePath: "",
        goroutineLeakPath: "",
        goroutinePort: 6060,
        memoryLimitBytes: p.memoryLimit ? 512 * 1024 * 1024 : undefined,
        restartCount: 0,
        startedAt: p.runningAt,
        lastTerminationReason: undefined,
        ready: this.ready(p),
        restartOptOut: p.optOut,
        snoozedUntil: p.snoozeUntil,
        problems: [],
      };
      const existing = this.runtime.targets.get(key);
      if (existing !== undefined && existing.target.podUID === p.uid) {
        existing.target = target;
        watches.push(existing);
      } else {
        const watch = new TargetWatch(target);
        this.runtime.targets.set(key, watch);
        watches.push(watch);
      }
    }
    for (const key of [...this.runtime.targets.keys()]) if (!seen.has(key)) this.runtime.targets.delete(key);
    return watches;
  }

  // --- the API ------------------------------------------------------------------------------

  private async get<T>(path: string, _options?: CallOptions): Promise<T> {
    await Promise.resolve();
    if (path.endsWith("/poddisruptionbudgets")) return { items: [] } as T;
    if ((this.readQueue.shift() ?? "ok") === "fail") {
      throw path.length % 2 === 0
        ? new KubeConnectionError(`GET ${path}: connection reset`)
        : new KubeApiError(apiFailure("GET", path, 500));
    }
    const rs = /\/replicasets\/(d\d+)-t(\d+)$/.exec(path);
    if (rs !== null) {
      const d = this.deployments.find((x) => x.name === rs[1]);
      if (d === undefined) throw new KubeApiError(apiFailure("GET", path, 404));
      return {
        metadata: {
          name: `${d.name}-t${rs[2] ?? ""}`,
          uid: `uid-${d.name}-t${rs[2] ?? ""}`,
          generation: 1,
          ownerReferences: [
            { apiVersion: "apps/v1", kind: "Deployment", name: d.name, uid: d.uid, controller: true },
          ],
        },
        spec: { replicas: d.replicas },
        status: { observedGeneration: 1 },
      } as T;
    }
    const dep = /\/deployments\/(d\d+)$/.exec(path);
    const d = this.deployments.find((x) => x.name === dep?.[1]);
    if (d === undefined) throw new KubeApiError(apiFailure("GET", path, 404));
    return {
      metadata: { name: d.name, uid: d.uid, generation: d.generation },
      spec: {
        replicas: d.replicas,
        paused: false,
        template: {
          metadata: {
            annotations: d.restartedAt === undefined ? {} : { [RESTARTED_AT_ANNOTATION]: d.restartedAt },
          },
        },
      },
      status: {
        observedGeneration: d.status.observedGeneration,
        availableReplicas: d.status.available,
        updatedReplicas: d.status.updated,
      },
    } as T;
  }

  /** The next mutating call's fate: whether it happens, and what the caller hears. */
  private fate(method: string, path: string): { perform: boolean; error: Error | undefined } {
    const mode = this.apiQueue.shift() ?? "ok";
    switch (mode) {
      case "ok":
        return { perform: true, error: undefined };
      case "429":
        return {
          perform: false,
          error: new KubeApiError({ ...apiFailure(method, path, 429), retryAfterSeconds: 10 }),
        };
      case "500":
        return { perform: false, error: new KubeApiError(apiFailure(method, path, 500)) };
      case "lostBefore":
      case "lostAfter":
        return {
          perform: mode === "lostAfter",
          error: new KubeConnectionError(`${method} ${path}: no answer`),
        };
      case "crashBefore":
      case "crashAfter":
        this.crashed = true;
        return {
          perform: mode === "crashAfter",
          error: new KubeConnectionError(`${method} ${path}: the operator died`),
        };
    }
  }

  private async create<T>(path: string, body: unknown): Promise<T> {
    await Promise.resolve();
    const m = /\/pods\/([^/]+)\/eviction$/.exec(path);
    if (m === null) throw new Error(`unexpected POST ${path}`);
    const uid = (body as { deleteOptions?: { preconditions?: { uid?: string } } }).deleteOptions
      ?.preconditions?.uid;
    const pod = this.pods.find((p) => p.name === m[1] && p.goneAt === undefined);
    if (pod === undefined) throw new KubeApiError(apiFailure("POST", path, 404));
    if (uid !== undefined && uid !== pod.uid) throw new KubeApiError(apiFailure("POST", path, 409));
    const fate = this.fate("POST", path);
    if (fate.perform && pod.deletingAt === undefined) {
      this.check(pod, "Evict");
      pod.deletingAt = this.trueNow;
    }
    if (fate.error !== undefined) throw fate.error;
    return {} as T;
  }

  private async patch<T>(path: string, body: unknown): Promise<T> {
    await Promise.resolve();
    const m = /\/deployments\/(d\d+)$/.exec(path);
    const d = this.deployments.find((x) => x.name === m?.[1]);
    if (d === undefined) throw new KubeApiError(apiFailure("PATCH", path, 404));
    const value = (body as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec
      .template.metadata.annotations[RESTARTED_AT_ANNOTATION];
    const fate = this.fate("PATCH", path);
    if (fate.perform) {
      const pod = this.considering?.pod;
      if (pod === undefined) this.violations.push("a rollout restart outside any decision");
      else this.check(pod, "RolloutRestart");
      if (value !== d.restartedAt) {
        d.restartedAt = value;
        d.generation++;
        d.template++;
      }
    }
    if (fate.error !== undefined) throw fate.error;
    return {} as T;
  }

  // --- the invariants -------------------------------------------------------------------------

  /** Checked when a restart really happens, against the world as it is at that moment. */
  private check(pod: SimPod, kind: "Evict" | "RolloutRestart"): void {
    const s = this.restart;
    const clock = this.clock();
    const c = this.considering;
    const say = (what: string): void => {
      this.violations.push(`${kind} of ${pod.name} at clock ${new Date(clock).toISOString()}: ${what}`);
    };
    if (s.dryRun) say("a dry run acted");
    if (c === undefined || c.pod !== pod) {
      say("acted on a pod that was not being considered");
      return;
    }
    if (!triggered(s, { leaking: c.leaking, hasMemoryLimit: c.hasLimit, timeToLimitMs: c.ttlMs }))
      say("the trigger did not fire");
    if (!c.captureStored && (c.ttlMs === null || c.ttlMs > criticalHorizonMs(this.settings.intervalMs)))
      say("no capture stored and the limit was not near");
    if (pod.optOut) say("the pod opted out");
    if (pod.snoozeUntil !== undefined && clock < pod.snoozeUntil) say("the pod is snoozed");
    if (s.windows.length > 0 && !inAnyWindow(s.windows, clock)) say("outside every window");
    // maxUnavailable: slots without a Ready pod, other than this pod's own.
    let out = 0;
    for (const d of this.deployments) {
      const readyOthers = this.live(d).filter((p) => p !== pod && this.ready(p)).length;
      const own = pod.deployment === d.name ? 1 : 0;
      out += Math.max(0, d.replicas - readyOthers - own);
    }
    if (out + 1 > s.maxUnavailable)
      say(`${out} pods already out of service (maxUnavailable ${s.maxUnavailable})`);
    if (kind === "Evict") {
      const d = this.deployments.find((x) => x.name === pod.deployment);
      const readyOthers = d === undefined ? 0 : this.live(d).filter((p) => p !== pod && this.ready(p)).length;
      if (readyOthers < 1) say(`${pod.deployment} would have no Ready replica left`);
    }
    const inBudget = this.performed.filter((p) => clock - p.clock < s.budgetPerMs).length;
    if (inBudget + 1 > s.budgetRestarts)
      say(`budget: ${inBudget} restarts already within ${s.budgetPerMs} ms`);
    const recent = this.performed.find(
      (p) => p.deployment === pod.deployment && clock - p.clock < s.cooldownMs,
    );
    if (recent !== undefined)
      say(`cooldown: ${pod.deployment} restarted at clock ${new Date(recent.clock).toISOString()}`);
    this.performed.push({ pod: pod.name, deployment: pod.deployment, clock, kind });
  }
}

function apiFailure(method: string, path: string, status: number) {
  const reason =
    status === 404
      ? "NotFound"
      : status === 409
        ? "Conflict"
        : status === 429
          ? "TooManyRequests"
          : "InternalError";
  return { status, reason, message: reason, method, path };
}
