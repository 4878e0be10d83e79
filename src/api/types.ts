// The LeakWatch resource as users write it (spec) and as the controller reports it (status).
// Field names and shapes match crds/leakwatch.dev_leakwatches.yaml; defaults live in defaults.ts.

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface SecretKeyRef {
  name: string;
  key: string;
}

export type Scheme = "http" | "https";
export type Via = "Direct" | "APIServerProxy";

export interface TargetAuth {
  /** A bearer token sent with every scrape, from a Secret in the LeakWatch's namespace. */
  bearerTokenSecret?: SecretKeyRef;
  /** A PEM CA bundle that signs the pods' serving certificates. */
  caSecret?: SecretKeyRef;
  /** TLS server name to verify instead of the pod IP. */
  serverName?: string;
}

export interface TargetSpec {
  /** Container port (number or name) serving pprof. Pod annotations override it. */
  port?: number | string;
  /** Restrict scraping to one container's ports; defaults to the container declaring the port. */
  container?: string;
  heapPath?: string;
  /** Empty string turns goroutine tracking off for every pod of this LeakWatch. */
  goroutinePath?: string;
  /** Opt-in: Go's goroutineleak profile (runs a GC per request). */
  goroutineLeakPath?: string;
  /** Allow heap/goroutine paths outside /debug/pprof/ (off: only pprof paths are scraped). */
  allowNonPprofPaths?: boolean;
  scheme?: Scheme;
  timeout?: string;
  /** Add gc=1 so the heap profile reflects a fresh collection. */
  forceGC?: boolean;
  via?: Via;
  auth?: TargetAuth;
}

export type Sensitivity = "Low" | "Medium" | "High";

export interface MemoryModel {
  /** How far above the live heap the Go heap grows before a collection (GOGC); 100 = twice. */
  gcHeadroomPercent?: number;
  /** Container memory that is not heap: stacks, runtime, binary, page cache. */
  runtimeOverhead?: number | string;
}

export interface DetectionSpec {
  window?: string;
  warmup?: string;
  /** Growth slower than this (bytes per hour) is never an alarm. */
  minGrowthPerHour?: number | string;
  /** Growth slower than this (percent of the window's median heap per hour) is never an alarm. */
  minGrowthPercentPerHour?: number;
  sensitivity?: Sensitivity;
  /** Goroutine counts growing slower than this per hour are never an alarm. */
  minGoroutineGrowthPerHour?: number;
  memoryModel?: MemoryModel;
}

export type ActionMode = "Record" | "Restart";
export type RestartStrategy = "Evict" | "RolloutRestart";
export type RestartTrigger = "Confirmed" | "BeforeOOM";
export type Weekday = "Mon" | "Tue" | "Wed" | "Thu" | "Fri" | "Sat" | "Sun";

export interface RestartWindow {
  days?: Weekday[];
  /** "HH:MM", inclusive. */
  start: string;
  /** "HH:MM", exclusive; before start means the window runs past midnight. */
  end: string;
  timeZone?: string;
}

export interface RestartBudget {
  restarts?: number;
  per?: string;
}

export interface RestartSpec {
  strategy?: RestartStrategy;
  trigger?: RestartTrigger;
  /** With trigger BeforeOOM: restart when the limit is projected within this horizon. */
  oomHorizon?: string;
  maxUnavailable?: number;
  cooldown?: string;
  budget?: RestartBudget;
  windows?: RestartWindow[];
  dryRun?: boolean;
}

export interface ActionSpec {
  mode?: ActionMode;
  restart?: RestartSpec;
}

export interface CapturesSpec {
  keep?: number;
  maxBytes?: number | string;
}

export interface LeakWatchSpec {
  selector: LabelSelector;
  target?: TargetSpec;
  interval?: string;
  detection?: DetectionSpec;
  action?: ActionSpec;
  captures?: CapturesSpec;
  suspend?: boolean;
}

export type Verdict = "Collecting" | "Healthy" | "Suspected" | "Leaking";

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** One row of the worst-pods table. Figures are rounded so status changes rarely. */
export interface PodReport {
  pod: string;
  container?: string;
  workload?: string;
  verdict: Verdict | "Failing";
  goroutineVerdict?: Verdict;
  tier?: string;
  heap?: string;
  growthPerHour?: string;
  growthPercentPerHour?: number;
  goroutines?: number;
  timeToLimit?: string;
  restarts?: number;
  lastTerminationReason?: string;
  lastError?: string;
}

export interface WorkloadReport {
  kind: string;
  name: string;
  image?: string;
  pods: number;
  suspected: number;
  leaking: number;
  maxGrowthPercentPerHour?: number;
}

export interface CaptureRef {
  name: string;
  pod: string;
  time: string;
  headline: string;
  bytes: number;
  complete: boolean;
}

export type RestartResult = "Pending" | "Restarted" | "Blocked" | "DryRun";

export interface RestartRecord {
  pod: string;
  /** "Kind/name" of the restarted workload: cooldowns are per workload. */
  workload: string;
  time: string;
  strategy: RestartStrategy;
  reason: string;
  /** Pending: written before acting, so a crash mid-restart still counts against the budget. */
  result?: RestartResult;
  capture?: string;
  dryRun?: boolean;
  /** The replica that acted. */
  by?: string;
}

export interface LeakWatchStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  watched?: number;
  collecting?: number;
  healthy?: number;
  suspected?: number;
  leaking?: number;
  failing?: number;
  pods?: PodReport[];
  workloads?: WorkloadReport[];
  captures?: CaptureRef[];
  restarts?: RestartRecord[];
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
}

export interface LeakWatch {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: LeakWatchSpec;
  status?: LeakWatchStatus;
}
