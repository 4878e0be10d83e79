// Whether to restart a leaking pod now. Pure and ordered like a checklist: each guard either lets
// the decision continue or holds it with a reason a person can read, and the restart comes last.
// Anything uncertain (an API error reading the owner, stale data) holds: doing nothing is safe.
// Also pure and here: how many pods are unavailable, when a restart has settled, which records
// count, and how the record list is kept bounded.
import type { RestartSettings, RestartWindowSettings } from "../api/defaults.ts";
import { formatDuration } from "../api/duration.ts";
import type { RestartRecord } from "../api/types.ts";
import type { WorkloadKind, WorkloadState, WorkloadStatus } from "../kube/workloads.ts";

export type { WorkloadState, WorkloadStatus };
export type OwnerKind = WorkloadKind;

export interface RestartInput {
  settings: RestartSettings;
  intervalMs: number;
  now: number;
  pod: string;
  /** The pod is Ready (counted in its workload's available replicas). */
  podReady: boolean;
  /** When the pod's container started: records newer than this are about this instance of the pod. */
  podStartedAt: number | undefined;
  /** The pod's heap verdict is Leaking. */
  leaking: boolean;
  /** Projected time to the memory limit; null when unknown or the container has no limit. */
  timeToLimitMs: number | null;
  hasMemoryLimit: boolean;
  optedOut: boolean;
  snoozedUntil: number | undefined;
  /** The owning workload, read from the API just before deciding. */
  workload: WorkloadState;
  /** The evidence (capture) for this leak episode is stored. */
  captureStored: boolean;
  /** Restart records of this LeakWatch (from its status): budgets and cooldowns come from these. */
  records: readonly RestartRecord[];
  /** Other pods of this LeakWatch that are not Ready, plus restarts still settling (countUnavailable). */
  unavailable: number;
  /** The same, within this pod's workload only. */
  workloadUnavailable: number;
  /** Why the data this decision rests on may be out of date (watch down, old scrape), if it may. */
  stale: string | undefined;
}

/** The event a hold is reported with: Skipped = not this pod (until something changes), Waiting = later. */
export type HoldEvent = "RestartSkipped" | "RestartWaiting" | "RestartBudgetExhausted";

export type RestartDecision =
  | { kind: "None" }
  | { kind: "Hold"; reason: HoldReason; event: HoldEvent; message: string; warning: boolean }
  | {
      kind: "Restart";
      dryRun: boolean;
      withoutEvidence: boolean;
      message: string;
      workload: { kind: OwnerKind; name: string };
      timeToLimitMs: number | null;
      /** A Blocked record for this pod instance that this attempt replaces. */
      retrying: RestartRecord | undefined;
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
  | "NotRollable"
  | "Paused"
  | "RolloutInProgress"
  | "WaitingForCapture";

/** The records a LeakWatch's status keeps (the CRD's maxItems). */
export const MAX_RECORDS = 64;
/**
 * Records are kept this long beyond what budgets and cooldowns need, so a clock stepped back by
 * up to this much cannot bring a forgotten restart back inside a budget period.
 */
export const CLOCK_STEP_GRACE_MS = 60 * 60_000;

/**
 * Records that use up budget and start a cooldown: real restarts, and attempts whose outcome is
 * not known (Pending: written before acting, so a crash mid-restart still counts). Blocked
 * attempts changed nothing. DryRun decisions count only in a dry run, which then shows the cadence
 * a real run would have — without spending a real run's budget.
 */
export function countsAgainstBudget(r: RestartRecord, options: { dryRun?: boolean } = {}): boolean {
  if (r.dryRun === true || r.result === "DryRun") return options.dryRun === true;
  return r.result === undefined || r.result === "Restarted" || r.result === "Pending";
}

/** When the restart must happen even without evidence: two intervals or five minutes, whichever is longer. */
export function criticalHorizonMs(intervalMs: number): number {
  return Math.max(2 * intervalMs, 5 * 60_000);
}

/**
 * How long a restart counts as settling at least, whatever the workload's status says: the
 * workload's controller needs a moment to notice the evicted pod before its status shows it.
 */
export function minSettleMs(intervalMs: number): number {
  return Math.max(2 * intervalMs, 15_000);
}

/** A record's time; an unreadable one counts as now (so it holds rather than frees). */
export function recordTime(r: RestartRecord, now: number): number {
  const t = Date.parse(r.time);
  return Number.isNaN(t) ? now : t;
}

/** The configured trigger fires: Leaking, and for BeforeOOM the limit projected within the horizon. */
export function triggered(
  s: RestartSettings,
  input: Pick<RestartInput, "leaking" | "hasMemoryLimit" | "timeToLimitMs">,
): boolean {
  if (!input.leaking) return false;
  if (s.trigger === "Confirmed") return true;
  return (
    input.hasMemoryLimit &&
    input.timeToLimitMs !== null &&
    s.oomHorizonMs !== undefined &&
    input.timeToLimitMs <= s.oomHorizonMs
  );
}

/**
 * The latest record about this instance of the pod: an eviction naming the pod, or a rollout
 * restart of its workload (which replaces every pod). Newer than the pod's start means it is about
 * this instance, not an earlier one or a replacement.
 */
export function coveringRecord(
  records: readonly RestartRecord[],
  pod: { name: string; workload: string; startedAt: number | undefined },
  now: number,
): RestartRecord | undefined {
  let found: RestartRecord | undefined;
  for (const r of records) {
    // An eviction is about one pod; a rollout restart about every pod of the workload.
    const about = r.strategy === "Evict" ? r.pod === pod.name : r.workload === pod.workload;
    if (!about) continue;
    if (pod.startedAt !== undefined && recordTime(r, now) < pod.startedAt) continue;
    if (found === undefined || recordTime(r, now) >= recordTime(found, now)) found = r;
  }
  return found;
}

export function decideRestart(input: RestartInput): RestartDecision {
  const s = input.settings;
  const pod = input.pod;
  const hold = (reason: HoldReason, event: HoldEvent, message: string, warning = false): RestartDecision => ({
    kind: "Hold",
    reason,
    event,
    message,
    warning,
  });

  // 1. The trigger.
  if (!triggered(s, input)) return { kind: "None" };
  // 2. The pod's own wishes.
  if (input.optedOut)
    return hold(
      "RestartOptedOut",
      "RestartSkipped",
      `${pod} opted out of restarts (leakwatch.dev/restart: "false")`,
    );
  if (input.snoozedUntil !== undefined && input.now < input.snoozedUntil) {
    return hold(
      "Snoozed",
      "RestartSkipped",
      `${pod} is snoozed until ${new Date(input.snoozedUntil).toISOString()}`,
    );
  }
  // 3. Something must bring the pod back, we must know what it is, and what we know must be fresh.
  const w = input.workload;
  if (w.kind === "None")
    return hold("NoOwner", "RestartSkipped", `${pod} is not restarted: ${w.reason}`, true);
  if (w.kind === "Unknown")
    return hold("OwnerUnknown", "RestartWaiting", `not restarting ${pod} now: ${w.reason}`, true);
  if (input.stale !== undefined)
    return hold("StaleData", "RestartWaiting", `not restarting ${pod} now: ${input.stale}`, true);
  const workloadName = `${w.kind}/${w.name}`;
  // 4. Already handled: this instance was restarted (or is being), or a dry run already said so.
  const counts = (r: RestartRecord): boolean => countsAgainstBudget(r, { dryRun: s.dryRun });
  const covering = coveringRecord(
    input.records,
    { name: pod, workload: workloadName, startedAt: input.podStartedAt },
    input.now,
  );
  if (covering !== undefined && counts(covering)) return { kind: "None" };
  const retrying = covering?.result === "Blocked" ? covering : undefined;
  // 5. When and how often.
  if (s.windows.length > 0 && !inAnyWindow(s.windows, input.now)) {
    return hold("OutsideWindow", "RestartWaiting", `${pod} will be restarted in the next restart window`);
  }
  const counted = input.records.filter(
    (r) => counts(r) && input.now - recordTime(r, input.now) < s.budgetPerMs,
  );
  if (counted.length >= s.budgetRestarts) {
    return hold(
      "RestartBudgetExhausted",
      "RestartBudgetExhausted",
      `restart budget used up: ${counted.length} of ${s.budgetRestarts} restarts in ${formatDuration(s.budgetPerMs)}; ${pod} keeps leaking and needs a human`,
      true,
    );
  }
  const last = input.records
    .filter((r) => counts(r) && r.workload === workloadName)
    .map((r) => recordTime(r, input.now))
    .reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  if (input.now - last < s.cooldownMs) {
    return hold(
      "Cooldown",
      "RestartWaiting",
      `${workloadName} was restarted ${formatDuration(Math.max(0, input.now - last))} ago (cooldown ${formatDuration(s.cooldownMs)})`,
    );
  }
  // 6. Never more than maxUnavailable at once, never the last replica.
  if (input.unavailable + 1 > s.maxUnavailable) {
    return hold(
      "MaxUnavailable",
      "RestartWaiting",
      `${input.unavailable} other pod(s) of this LeakWatch are restarting or not Ready (maxUnavailable ${s.maxUnavailable})`,
    );
  }
  // Ready replicas besides this pod: by the workload's status, and by what we see restarting or
  // not Ready in it right now (the status may lag behind both).
  const others = Math.min(w.available - (input.podReady ? 1 : 0), w.replicas - 1 - input.workloadUnavailable);
  if (s.strategy === "Evict" && others < 1) {
    return hold(
      "LastReplica",
      "RestartSkipped",
      `evicting ${pod} would leave ${workloadName} with no available replica (${w.available} of ${w.replicas} available); use strategy RolloutRestart, which starts the new pod first`,
      true,
    );
  }
  if (s.strategy === "RolloutRestart") {
    if (w.kind === "ReplicaSet" || !w.rollable)
      return hold(
        "NotRollable",
        "RestartSkipped",
        `${workloadName} cannot be rolled out (${w.kind === "ReplicaSet" ? "no Deployment manages it" : "its updateStrategy is OnDelete"}); use strategy Evict`,
        true,
      );
    if (w.paused)
      return hold(
        "Paused",
        "RestartSkipped",
        `${workloadName} is paused; a rollout restart would not proceed`,
        true,
      );
    if (others + (input.podReady ? 1 : 0) < 1)
      return hold(
        "LastReplica",
        "RestartSkipped",
        `${workloadName} has no available replica; a rollout restart now would not help`,
        true,
      );
    if (!w.observed || w.updated < w.replicas)
      return hold("RolloutInProgress", "RestartWaiting", `${workloadName} is rolling out already`);
  }
  // 7. Evidence first, unless the limit is about to be hit.
  let withoutEvidence = false;
  if (!input.captureStored) {
    const critical = criticalHorizonMs(input.intervalMs);
    if (input.timeToLimitMs === null || input.timeToLimitMs > critical) {
      return hold(
        "WaitingForCapture",
        "RestartWaiting",
        `waiting for the capture of ${pod} to be stored before restarting`,
      );
    }
    withoutEvidence = true;
  }
  const how = s.strategy === "Evict" ? `evict ${pod}` : `rollout-restart ${workloadName}`;
  const when =
    input.timeToLimitMs === null ? "" : `; memory limit projected in ${formatDuration(input.timeToLimitMs)}`;
  const evidence = withoutEvidence ? " without a capture (it is not stored and the limit is near)" : "";
  return {
    kind: "Restart",
    dryRun: s.dryRun,
    withoutEvidence,
    message: `${s.dryRun ? "would " : ""}${how}${evidence}${when}`,
    workload: { kind: w.kind, name: w.name },
    timeToLimitMs: input.timeToLimitMs,
    retrying,
  };
}

/** A pod of this LeakWatch as the pod cache shows it (Pending and terminating ones included). */
export interface PodSnapshot {
  name: string;
  /** "Kind/name" of its workload, if any. */
  workload: string | undefined;
  ready: boolean;
  deleting: boolean;
  /** When its (first) container started; undefined until one has. */
  startedAt: number | undefined;
}

/** The instance a record restarted (or is restarting), if the pod cache still shows it. */
function restartedInstance(r: RestartRecord, p: PodSnapshot, now: number): boolean {
  return (
    r.strategy === "Evict" &&
    p.name === r.pod &&
    (p.deleting || p.startedAt === undefined || p.startedAt < recordTime(r, now))
  );
}

/**
 * Pods that are out of service, other than `pod`: per workload, each settling restart counts
 * once, together with its pods that are not Ready — where a not-Ready pod started after the
 * restart is taken for its replacement, and the restarted instance itself is not counted again.
 */
export function countUnavailable(input: {
  pod: string;
  pods: readonly PodSnapshot[];
  settling: readonly RestartRecord[];
  now: number;
}): { total: number; byWorkload: ReadonlyMap<string, number> } {
  const groups = new Map<string, { pods: PodSnapshot[]; settling: RestartRecord[] }>();
  const group = (key: string): { pods: PodSnapshot[]; settling: RestartRecord[] } => {
    let g = groups.get(key);
    if (g === undefined) {
      g = { pods: [], settling: [] };
      groups.set(key, g);
    }
    return g;
  };
  let loose = 0;
  for (const p of input.pods) {
    if (p.name === input.pod) continue;
    if (p.workload === undefined) {
      if (!p.ready || p.deleting) loose++;
      continue;
    }
    group(p.workload).pods.push(p);
  }
  for (const r of input.settling) group(r.workload).settling.push(r);
  const byWorkload = new Map<string, number>();
  let total = loose;
  for (const [key, g] of groups) {
    const since = Math.min(...g.settling.map((r) => recordTime(r, input.now)));
    const others = g.pods.filter((p) => !g.settling.some((r) => restartedInstance(r, p, input.now)));
    const down = others.filter((p) => !p.ready || p.deleting);
    const replacements = down.filter(
      (p) => !p.deleting && (p.startedAt === undefined || p.startedAt >= since),
    );
    const count = g.settling.length + down.length - Math.min(g.settling.length, replacements.length);
    byWorkload.set(key, count);
    total += count;
  }
  return { total, byWorkload };
}

/**
 * A restart has settled when its workload is whole again — by its status (every desired replica
 * available and on the current template) and by the pod cache (as many Ready pods, the restarted
 * instance gone) — or when the workload is gone. The cache is live where the status may lag, so a
 * clock that jumps ahead cannot settle a restart whose replacement does not exist yet; and never
 * within minSettleMs, while the status may not show the restart yet. `pods` are all the pods of the
 * namespace, not only this LeakWatch's.
 */
export function restartSettled(
  r: RestartRecord,
  ctx: {
    now: number;
    intervalMs: number;
    pods: readonly PodSnapshot[];
    workload: WorkloadStatus | { kind: "Gone" } | { kind: "Unknown"; reason: string };
  },
): boolean {
  const age = ctx.now - recordTime(r, ctx.now);
  if (age < minSettleMs(ctx.intervalMs)) return false;
  if (ctx.pods.some((p) => restartedInstance(r, p, ctx.now))) return false;
  const w = ctx.workload;
  if (w.kind === "Gone") return true;
  if (w.kind === "Unknown") return false;
  const ready = ctx.pods.filter((p) => p.workload === r.workload && p.ready && !p.deleting).length;
  return w.observed && w.available >= w.replicas && w.updated >= w.replicas && ready >= w.replicas;
}

/**
 * Keeps the records bounded: those older than budgets and cooldowns need (plus a grace for clock
 * steps) go, unless still settling; beyond MAX_RECORDS the oldest that count for nothing go first.
 */
export function pruneRecords(
  records: readonly RestartRecord[],
  settings: RestartSettings,
  now: number,
  settling: (r: RestartRecord) => boolean,
): RestartRecord[] {
  const horizon = Math.max(settings.budgetPerMs, settings.cooldownMs) + CLOCK_STEP_GRACE_MS;
  const kept = records.filter((r) => settling(r) || now - recordTime(r, now) < horizon);
  const byAge = (a: RestartRecord, b: RestartRecord): number => recordTime(a, now) - recordTime(b, now);
  while (kept.length > MAX_RECORDS) {
    const idle = kept
      .filter((r) => !countsAgainstBudget(r, { dryRun: settings.dryRun }) && !settling(r))
      .sort(byAge)[0];
    const victim = idle ?? [...kept].sort(byAge)[0];
    if (victim === undefined) break;
    kept.splice(kept.indexOf(victim), 1);
  }
  return kept;
}

/** Is `now` inside one of the windows (days and HH:MM in the window's time zone)? */
export function inAnyWindow(windows: readonly RestartWindowSettings[], now: number): boolean {
  return windows.some((w) => inWindow(w, now));
}

const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Weekday (0 = Sunday) and minute of the day on the wall clock of `timeZone`. */
export function wallClock(timeZone: string, now: number): { day: number; minute: number } {
  const parts = formatter(timeZone).formatToParts(new Date(now));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? "";
  const hour = Number(get("hour")) % 24; // some ICU versions write midnight as 24 even with h23
  return { day: WEEKDAY[get("weekday")] ?? -1, minute: hour * 60 + Number(get("minute")) };
}

function inWindow(w: RestartWindowSettings, now: number): boolean {
  const { day, minute } = wallClock(w.timeZone, now);
  if (w.startMinute < w.endMinute) return w.days.has(day) && minute >= w.startMinute && minute < w.endMinute;
  // Past midnight: the part before midnight belongs to `day`, the part after to the day before.
  if (minute >= w.startMinute) return w.days.has(day);
  return minute < w.endMinute && w.days.has((day + 6) % 7);
}
