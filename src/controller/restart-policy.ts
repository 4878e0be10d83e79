// Whether to restart a leaking pod now. Pure and ordered like a checklist: each guard either lets
// the decision continue or holds it with a reason a person can read, and the restart comes last.
// Anything uncertain (an API error reading the owner, stale data) holds: doing nothing is safe.
import type { RestartSettings, RestartWindowSettings } from "../api/defaults.ts";
import { formatDuration } from "../api/duration.ts";
import type { RestartRecord } from "../api/types.ts";

export type OwnerKind = "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet";

/** The workload that owns the pod, read from the API just before deciding. */
export type WorkloadState =
  | {
      kind: OwnerKind;
      name: string;
      /** Desired replicas (for DaemonSets: desired scheduled pods). */
      replicas: number;
      /** Ready and available replicas right now. */
      available: number;
      paused: boolean;
    }
  | { kind: "None"; reason: string }
  | { kind: "Unknown"; reason: string };

export interface RestartInput {
  settings: RestartSettings;
  intervalMs: number;
  now: number;
  pod: string;
  /** The pod's heap verdict is Leaking. */
  leaking: boolean;
  /** Projected time to the memory limit; null when unknown or the container has no limit. */
  timeToLimitMs: number | null;
  hasMemoryLimit: boolean;
  optedOut: boolean;
  snoozedUntil: number | undefined;
  workload: WorkloadState;
  /** The evidence (capture) for this leak episode is stored. */
  captureStored: boolean;
  /** Restart records of this LeakWatch (from its status): budgets and cooldowns come from these. */
  records: readonly RestartRecord[];
  /** Pods of this LeakWatch not Ready, plus restarts still settling. */
  unavailable: number;
  /** The pod data is older than it should be (watch down, scrape stale). */
  stale: boolean;
}

export type RestartDecision =
  | { kind: "None" }
  | { kind: "Hold"; reason: HoldReason; message: string; warning: boolean }
  | {
      kind: "Restart";
      dryRun: boolean;
      withoutEvidence: boolean;
      message: string;
      workload: { kind: OwnerKind; name: string };
    };

export type HoldReason =
  | "RestartOptedOut"
  | "Snoozed"
  | "NoOwner"
  | "OwnerUnknown"
  | "StaleData"
  | "OutsideWindow"
  | "RestartBudgetExhausted"
  | "Cooldown"
  | "MaxUnavailable"
  | "LastReplica"
  | "Paused"
  | "WaitingForCapture";

/** Records that used up budget: real restarts, and attempts whose outcome is not known yet. */
export function countsAgainstBudget(r: RestartRecord): boolean {
  return r.dryRun !== true && (r.result === undefined || r.result === "Restarted" || r.result === "Pending");
}

/** When the restart must happen even without evidence: two intervals or five minutes, whichever is longer. */
export function criticalHorizonMs(intervalMs: number): number {
  return Math.max(2 * intervalMs, 5 * 60_000);
}

export function decideRestart(input: RestartInput): RestartDecision {
  const s = input.settings;
  const hold = (reason: HoldReason, message: string, warning = false): RestartDecision => ({
    kind: "Hold",
    reason,
    message,
    warning,
  });

  // 1. The trigger.
  if (!input.leaking) return { kind: "None" };
  if (s.trigger === "BeforeOOM") {
    if (!input.hasMemoryLimit || input.timeToLimitMs === null) return { kind: "None" };
    if (s.oomHorizonMs === undefined || input.timeToLimitMs > s.oomHorizonMs) return { kind: "None" };
  }
  // 2. The pod's own wishes.
  if (input.optedOut)
    return hold("RestartOptedOut", `${input.pod} opted out of restarts (leakwatch.dev/restart: "false")`);
  if (input.snoozedUntil !== undefined && input.now < input.snoozedUntil) {
    return hold("Snoozed", `${input.pod} is snoozed until ${new Date(input.snoozedUntil).toISOString()}`);
  }
  // 3. Something must bring the pod back, and we must know what it is.
  const w = input.workload;
  if (w.kind === "None") return hold("NoOwner", `${input.pod} is not restarted: ${w.reason}`, true);
  if (w.kind === "Unknown") return hold("OwnerUnknown", `not restarting ${input.pod}: ${w.reason}`, true);
  if (input.stale) return hold("StaleData", `not restarting ${input.pod}: its data is stale`, true);
  // 4. When and how often.
  if (s.windows.length > 0 && !inAnyWindow(s.windows, input.now)) {
    return hold("OutsideWindow", `${input.pod} will be restarted in the next restart window`);
  }
  const counted = input.records.filter(
    (r) => countsAgainstBudget(r) && input.now - Date.parse(r.time) < s.budgetPerMs,
  );
  if (counted.length >= s.budgetRestarts) {
    return hold(
      "RestartBudgetExhausted",
      `restart budget used up: ${counted.length} of ${s.budgetRestarts} restarts in ${formatDuration(s.budgetPerMs)}; ${input.pod} needs a human`,
      true,
    );
  }
  const workloadName = `${w.kind}/${w.name}`;
  const last = input.records
    .filter((r) => countsAgainstBudget(r) && r.workload === workloadName)
    .map((r) => Date.parse(r.time))
    .reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  if (input.now - last < s.cooldownMs) {
    return hold(
      "Cooldown",
      `${workloadName} was restarted ${formatDuration(input.now - last)} ago (cooldown ${formatDuration(s.cooldownMs)})`,
    );
  }
  // 5. Never more than maxUnavailable at once, never the last replica.
  if (input.unavailable >= s.maxUnavailable) {
    return hold(
      "MaxUnavailable",
      `${input.unavailable} pod(s) of this LeakWatch are restarting or not Ready (maxUnavailable ${s.maxUnavailable})`,
    );
  }
  if (s.strategy === "Evict" && w.available - 1 < 1) {
    return hold(
      "LastReplica",
      `evicting ${input.pod} would leave ${workloadName} with no available replica (${w.available} of ${w.replicas}); use strategy RolloutRestart, which starts the new pod first`,
      true,
    );
  }
  if (s.strategy === "RolloutRestart") {
    if (w.kind === "ReplicaSet")
      return hold("OwnerUnknown", `${workloadName} has no Deployment to roll out`, true);
    if (w.paused)
      return hold("Paused", `${workloadName} is paused; a rollout restart would not proceed`, true);
    if (w.available < 1)
      return hold(
        "LastReplica",
        `${workloadName} has no available replica; restarting it now would not help`,
        true,
      );
  }
  // 6. Evidence first, unless the limit is about to be hit.
  let withoutEvidence = false;
  if (!input.captureStored) {
    const critical = criticalHorizonMs(input.intervalMs);
    if (input.timeToLimitMs === null || input.timeToLimitMs > critical) {
      return hold(
        "WaitingForCapture",
        `waiting for the capture of ${input.pod} to be stored before restarting`,
      );
    }
    withoutEvidence = true;
  }
  const how = s.strategy === "Evict" ? `evict ${input.pod}` : `rollout-restart ${workloadName}`;
  const when =
    input.timeToLimitMs === null ? "" : `; memory limit projected in ${formatDuration(input.timeToLimitMs)}`;
  const evidence = withoutEvidence ? " without a capture (the limit is near and the capture failed)" : "";
  return {
    kind: "Restart",
    dryRun: s.dryRun,
    withoutEvidence,
    message: `${s.dryRun ? "would " : ""}${how}${evidence}${when}`,
    workload: { kind: w.kind, name: w.name },
  };
}

/** Is `now` inside one of the windows (days and HH:MM in the window's time zone)? */
export function inAnyWindow(windows: readonly RestartWindowSettings[], now: number): boolean {
  return windows.some((w) => inWindow(w, now));
}

const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function inWindow(w: RestartWindowSettings, now: number): boolean {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: w.timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(now));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? "";
  const day = WEEKDAY[get("weekday")] ?? -1;
  const minute = Number(get("hour")) * 60 + Number(get("minute"));
  if (w.startMinute < w.endMinute) return w.days.has(day) && minute >= w.startMinute && minute < w.endMinute;
  // Past midnight: the part before midnight belongs to `day`, the part after to the day before.
  if (minute >= w.startMinute) return w.days.has(day);
  return minute < w.endMinute && w.days.has((day + 6) % 7);
}
