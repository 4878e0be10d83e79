// The restart checklist, one guard at a time, and the restart windows across midnight, DST and
// time zones.
import { describe, expect, it } from "vitest";
import {
  CLOCK_STEP_GRACE_MS,
  MAX_RECORDS,
  countUnavailable,
  countsAgainstBudget,
  coveringRecord,
  criticalHorizonMs,
  decideRestart,
  inAnyWindow,
  pruneRecords,
  restartSettled,
  type PodSnapshot,
  type RestartDecision,
} from "../../../src/controller/restart-policy.ts";
import { HOUR, MINUTE, NOON, deployment, input, record, restartSettings } from "./restart-fixtures.ts";

function held(d: RestartDecision): { reason: string; event: string; warning: boolean; message: string } {
  if (d.kind !== "Hold") throw new Error(`expected a hold, got ${JSON.stringify(d)}`);
  return { reason: d.reason, event: d.event, warning: d.warning, message: d.message };
}

describe("decideRestart: the trigger", () => {
  it("does nothing unless the heap is Leaking", () => {
    expect(decideRestart(input({ leaking: false }))).toEqual({ kind: "None" });
    expect(decideRestart(input()).kind).toBe("Restart");
  });

  it("BeforeOOM needs a limit and a projection within oomHorizon", () => {
    const settings = restartSettings({ trigger: "BeforeOOM", oomHorizon: "30m" });
    expect(decideRestart(input({ settings, timeToLimitMs: 31 * MINUTE }))).toEqual({ kind: "None" });
    expect(decideRestart(input({ settings, timeToLimitMs: null }))).toEqual({ kind: "None" });
    expect(decideRestart(input({ settings, hasMemoryLimit: false, timeToLimitMs: MINUTE }))).toEqual({
      kind: "None",
    });
    expect(decideRestart(input({ settings, timeToLimitMs: 30 * MINUTE })).kind).toBe("Restart");
  });
});

describe("decideRestart: the guards, in order", () => {
  it("the pod's opt-out comes before everything that needs the cluster", () => {
    const d = held(
      decideRestart(
        input({ optedOut: true, workload: { kind: "Unknown", reason: "not read" }, stale: "watch down" }),
      ),
    );
    expect(d).toMatchObject({ reason: "RestartOptedOut", event: "RestartSkipped", warning: false });
    expect(d.message).toContain('leakwatch.dev/restart: "false"');
  });

  it("a snooze holds until it ends", () => {
    const until = NOON + MINUTE;
    expect(held(decideRestart(input({ snoozedUntil: until })))).toMatchObject({
      reason: "Snoozed",
      event: "RestartSkipped",
    });
    expect(decideRestart(input({ snoozedUntil: until, now: until })).kind).toBe("Restart");
  });

  it("fails closed on a pod nothing would recreate, an unreadable owner, or stale data", () => {
    expect(held(decideRestart(input({ workload: { kind: "None", reason: "a bare pod" } })))).toMatchObject({
      reason: "NoOwner",
      event: "RestartSkipped",
      warning: true,
    });
    expect(
      held(decideRestart(input({ workload: { kind: "Unknown", reason: "ReplicaSet/x cannot be read" } }))),
    ).toMatchObject({ reason: "OwnerUnknown", event: "RestartWaiting", warning: true });
    const stale = held(decideRestart(input({ stale: "the pod watch has been down for 2m" })));
    expect(stale).toMatchObject({ reason: "StaleData", warning: true });
    expect(stale.message).toContain("down for 2m");
  });

  it("an instance already restarted is left alone; an older record is about an earlier instance", () => {
    const done = record({ pod: "web-0", at: NOON - MINUTE });
    expect(decideRestart(input({ records: [done] }))).toEqual({ kind: "None" });
    const pending = record({ pod: "web-0", at: NOON - MINUTE, result: "Pending" });
    expect(decideRestart(input({ records: [pending] }))).toEqual({ kind: "None" });
    // The pod started after the record: a replacement (StatefulSet pods keep their names).
    const old = record({ pod: "web-0", at: NOON - 4 * HOUR });
    expect(decideRestart(input({ records: [old], settings: restartSettings({ cooldown: "1m" }) })).kind).toBe(
      "Restart",
    );
  });

  it("a blocked attempt is retried, replacing its record, and spends no budget", () => {
    const blocked = record({ pod: "web-0", at: NOON - MINUTE, result: "Blocked" });
    const settings = restartSettings({ budget: { restarts: 1 } });
    const d = decideRestart(input({ settings, records: [blocked] }));
    expect(d).toMatchObject({ kind: "Restart", retrying: blocked });
  });

  it("a rollout restart covers every pod of its workload", () => {
    const settings = restartSettings({ strategy: "RolloutRestart" });
    const rollout = record({ pod: "web-2", strategy: "RolloutRestart", at: NOON - MINUTE });
    expect(decideRestart(input({ settings, records: [rollout] }))).toEqual({ kind: "None" });
  });

  it("waits for a window", () => {
    const settings = restartSettings({ windows: [{ start: "02:00", end: "04:00" }] });
    expect(held(decideRestart(input({ settings })))).toMatchObject({
      reason: "OutsideWindow",
      event: "RestartWaiting",
      warning: false,
    });
    expect(decideRestart(input({ settings, now: Date.UTC(2025, 0, 15, 3, 0) })).kind).toBe("Restart");
  });

  it("the budget counts real and unresolved restarts in its period, not blocked or dry-run ones", () => {
    const settings = restartSettings({ budget: { restarts: 2, per: "1h" }, cooldown: "0s" });
    const other = (at: number, result: "Restarted" | "Pending" | "Blocked" | "DryRun", pod = "api-1") =>
      record({
        pod,
        workload: "Deployment/api",
        at,
        result,
        ...(result === "DryRun" ? { dryRun: true } : {}),
      });
    const ok = [other(NOON - 30 * MINUTE, "Restarted"), other(NOON - 2 * HOUR, "Restarted")];
    expect(decideRestart(input({ settings, records: ok })).kind).toBe("Restart");
    const noise = [...ok, other(NOON - MINUTE, "Blocked", "a"), other(NOON - MINUTE, "DryRun", "b")];
    expect(decideRestart(input({ settings, records: noise })).kind).toBe("Restart");
    const spent = [...ok, other(NOON - 50 * MINUTE, "Pending", "c")];
    const d = held(decideRestart(input({ settings, records: spent })));
    expect(d).toMatchObject({
      reason: "RestartBudgetExhausted",
      event: "RestartBudgetExhausted",
      warning: true,
    });
    expect(d.message).toMatch(/2 of 2 restarts in 1h.*needs a human/);
    // A record "from the future" (the clock stepped back) still counts.
    const future = [other(NOON + 10 * MINUTE, "Restarted"), other(NOON - 10 * MINUTE, "Restarted", "d")];
    expect(held(decideRestart(input({ settings, records: future }))).reason).toBe("RestartBudgetExhausted");
  });

  it("a dry run spends a simulated budget of its own, never a real one", () => {
    const dry = restartSettings({ dryRun: true, budget: { restarts: 1 }, cooldown: "0s" });
    const would = record({
      pod: "api-0",
      workload: "Deployment/api",
      at: NOON - MINUTE,
      result: "DryRun",
      dryRun: true,
    });
    expect(held(decideRestart(input({ settings: dry, records: [would] }))).reason).toBe(
      "RestartBudgetExhausted",
    );
    const real = restartSettings({ budget: { restarts: 1 }, cooldown: "0s" });
    expect(decideRestart(input({ settings: real, records: [would] })).kind).toBe("Restart");
    expect(countsAgainstBudget(would)).toBe(false);
    expect(countsAgainstBudget(would, { dryRun: true })).toBe(true);
  });

  it("cooldown is per workload and survives a clock stepped back", () => {
    const settings = restartSettings({ cooldown: "1h" });
    const recent = record({ pod: "web-9", at: NOON - 20 * MINUTE });
    const d = held(decideRestart(input({ settings, records: [recent] })));
    expect(d).toMatchObject({ reason: "Cooldown", event: "RestartWaiting" });
    expect(d.message).toContain("Deployment/web was restarted 20m ago (cooldown 1h)");
    const elsewhere = record({ pod: "api-1", workload: "Deployment/api", at: NOON - 20 * MINUTE });
    expect(decideRestart(input({ settings, records: [elsewhere] })).kind).toBe("Restart");
    const ahead = record({ pod: "web-9", at: NOON + 30 * MINUTE });
    expect(held(decideRestart(input({ settings, records: [ahead] }))).reason).toBe("Cooldown");
    const old = record({ pod: "web-9", at: NOON - 61 * MINUTE });
    expect(decideRestart(input({ settings, records: [old] })).kind).toBe("Restart");
  });

  it("never more than maxUnavailable out of service, counting this one", () => {
    const settings = restartSettings({ maxUnavailable: 2 });
    expect(decideRestart(input({ settings, unavailable: 1 })).kind).toBe("Restart");
    expect(held(decideRestart(input({ settings, unavailable: 2 })))).toMatchObject({
      reason: "MaxUnavailable",
      event: "RestartWaiting",
    });
  });

  it("Evict never takes a workload's last available replica, and says to use RolloutRestart", () => {
    const single = deployment({ replicas: 1, available: 1, updated: 1 });
    const d = held(decideRestart(input({ workload: single })));
    expect(d).toMatchObject({ reason: "LastReplica", event: "RestartSkipped", warning: true });
    expect(d.message).toContain("use strategy RolloutRestart");
    // Two replicas, but the other one is restarting: same answer, whatever the status says.
    const two = deployment({ replicas: 2, available: 2, updated: 2 });
    expect(
      held(
        decideRestart(
          input({ workload: two, workloadUnavailable: 1, settings: restartSettings({ maxUnavailable: 3 }) }),
        ),
      ).reason,
    ).toBe("LastReplica");
    // A pod that is not Ready is not one of the available ones: evicting it takes nothing away.
    const one = deployment({ replicas: 2, available: 1, updated: 2 });
    expect(decideRestart(input({ workload: one, podReady: false })).kind).toBe("Restart");
    expect(held(decideRestart(input({ workload: one, podReady: true }))).reason).toBe("LastReplica");
  });

  it("RolloutRestart refuses what cannot roll out, paused Deployments and broken or rolling workloads", () => {
    const settings = restartSettings({ strategy: "RolloutRestart" });
    const rs = { ...deployment(), kind: "ReplicaSet" as const, rollable: false };
    expect(held(decideRestart(input({ settings, workload: rs }))).reason).toBe("NotRollable");
    const onDelete = { ...deployment(), kind: "StatefulSet" as const, rollable: false };
    expect(held(decideRestart(input({ settings, workload: onDelete }))).message).toContain("OnDelete");
    expect(held(decideRestart(input({ settings, workload: deployment({ paused: true }) })))).toMatchObject({
      reason: "Paused",
      warning: true,
    });
    expect(held(decideRestart(input({ settings, workload: deployment({ available: 0 }) }))).reason).toBe(
      "LastReplica",
    );
    expect(held(decideRestart(input({ settings, workload: deployment({ updated: 1 }) }))).reason).toBe(
      "RolloutInProgress",
    );
    expect(held(decideRestart(input({ settings, workload: deployment({ observed: false }) }))).reason).toBe(
      "RolloutInProgress",
    );
    // A single replica is fine: the rollout starts the new pod first.
    const single = deployment({ replicas: 1, available: 1, updated: 1 });
    expect(decideRestart(input({ settings, workload: single }))).toMatchObject({
      kind: "Restart",
      message: "rollout-restart Deployment/web; memory limit projected in 2h",
    });
  });

  it("evidence first; without it only within the critical horizon, and says so", () => {
    expect(criticalHorizonMs(60_000)).toBe(5 * MINUTE);
    expect(criticalHorizonMs(10 * MINUTE)).toBe(20 * MINUTE);
    const d = held(decideRestart(input({ captureStored: false, timeToLimitMs: 6 * MINUTE })));
    expect(d).toMatchObject({ reason: "WaitingForCapture", event: "RestartWaiting", warning: false });
    expect(held(decideRestart(input({ captureStored: false, timeToLimitMs: null }))).reason).toBe(
      "WaitingForCapture",
    );
    const urgent = decideRestart(input({ captureStored: false, timeToLimitMs: 4 * MINUTE }));
    expect(urgent).toMatchObject({ kind: "Restart", withoutEvidence: true });
    if (urgent.kind === "Restart") expect(urgent.message).toContain("without a capture");
  });

  it("dry run decides the same and says 'would'", () => {
    const d = decideRestart(input({ settings: restartSettings({ dryRun: true }) }));
    expect(d).toMatchObject({
      kind: "Restart",
      dryRun: true,
      message: "would evict web-0; memory limit projected in 2h",
    });
  });
});

describe("coveringRecord", () => {
  it("takes the latest record about this instance", () => {
    const a = record({ pod: "web-0", at: NOON - 10 * MINUTE, result: "Blocked" });
    const b = record({ pod: "web-0", at: NOON - 5 * MINUTE, result: "Blocked" });
    const pod = { name: "web-0", workload: "Deployment/web", startedAt: NOON - HOUR };
    expect(coveringRecord([b, a], pod, NOON)).toBe(b);
    expect(coveringRecord([a], { ...pod, startedAt: NOON - MINUTE }, NOON)).toBeUndefined();
  });
});

function pod(name: string, overrides: Partial<PodSnapshot> = {}): PodSnapshot {
  return {
    name,
    workload: "Deployment/web",
    ready: true,
    deleting: false,
    startedAt: NOON - HOUR,
    ...overrides,
  };
}

describe("countUnavailable", () => {
  it("counts other pods that are not Ready or going away", () => {
    const pods = [
      pod("web-0", { ready: false }),
      pod("web-1", { ready: false }),
      pod("web-2", { deleting: true }),
      pod("x", { workload: undefined, ready: false }),
    ];
    expect(countUnavailable({ pod: "web-0", pods, settling: [], now: NOON }).total).toBe(3);
  });

  it("counts a settling restart once, with its old instance and its replacement", () => {
    const evicted = record({ pod: "web-1", at: NOON - MINUTE });
    const pods = [
      pod("web-0"),
      pod("web-1", { deleting: true }),
      pod("web-3", { ready: false, startedAt: undefined }),
      pod("api-0", { workload: "Deployment/api" }),
    ];
    const counted = countUnavailable({ pod: "api-0", pods, settling: [evicted], now: NOON });
    expect(counted.total).toBe(1);
    expect(counted.byWorkload.get("Deployment/web")).toBe(1);
    // Before the replacement exists, the record alone stands for the slot.
    const early = countUnavailable({
      pod: "api-0",
      pods: pods.filter((p) => p.name !== "web-3"),
      settling: [evicted],
      now: NOON,
    });
    expect(early.total).toBe(1);
    // A pod that was already down before the restart is not its replacement.
    const sick = [...pods, pod("web-4", { ready: false, startedAt: NOON - HOUR })];
    expect(countUnavailable({ pod: "api-0", pods: sick, settling: [evicted], now: NOON }).total).toBe(2);
  });

  it("a StatefulSet replacement has the restarted pod's name and a later start", () => {
    const evicted = record({ pod: "db-0", workload: "StatefulSet/db", at: NOON - MINUTE });
    const pods = [
      pod("db-0", { workload: "StatefulSet/db", ready: false, startedAt: NOON - 30_000 }),
      pod("db-1", { workload: "StatefulSet/db" }),
    ];
    expect(countUnavailable({ pod: "db-1", pods, settling: [evicted], now: NOON }).total).toBe(1);
  });
});

describe("restartSettled", () => {
  const whole = deployment();
  const evicted = record({ pod: "web-1", at: NOON - 10 * MINUTE });
  const ctx = {
    now: NOON,
    intervalMs: 60_000,
    pods: [pod("web-0"), pod("web-2"), pod("web-3", { startedAt: NOON - MINUTE })],
    workload: whole,
  };

  it("settles once the old instance is gone and the workload is whole", () => {
    expect(restartSettled(evicted, ctx)).toBe(true);
    expect(restartSettled(evicted, { ...ctx, pods: [...ctx.pods, pod("web-1", { deleting: true })] })).toBe(
      false,
    );
    expect(restartSettled(evicted, { ...ctx, workload: deployment({ available: 2 }) })).toBe(false);
    expect(restartSettled(evicted, { ...ctx, workload: deployment({ observed: false }) })).toBe(false);
    expect(restartSettled(evicted, { ...ctx, workload: { kind: "Unknown", reason: "500" } })).toBe(false);
    expect(restartSettled(evicted, { ...ctx, workload: { kind: "Gone" } })).toBe(true);
  });

  it("never within the first two intervals, whatever a lagging status says", () => {
    expect(restartSettled(record({ pod: "web-1", at: NOON - 90_000 }), ctx)).toBe(false);
    expect(restartSettled(record({ pod: "web-1", at: NOON + HOUR }), ctx)).toBe(false);
  });
});

describe("pruneRecords", () => {
  const settings = restartSettings({ cooldown: "1h", budget: { restarts: 3, per: "2h" } });

  it("forgets what no budget or cooldown needs (with a grace for clock steps), unless settling", () => {
    const horizon = 2 * HOUR + CLOCK_STEP_GRACE_MS;
    const old = record({ pod: "a", at: NOON - horizon - 1 });
    const keep = record({ pod: "b", at: NOON - horizon + MINUTE });
    expect(pruneRecords([old, keep], settings, NOON, () => false)).toEqual([keep]);
    expect(pruneRecords([old, keep], settings, NOON, (r) => r === old)).toEqual([old, keep]);
  });

  it(`keeps at most ${MAX_RECORDS}, dropping records that count for nothing first`, () => {
    const counted = Array.from({ length: 3 }, (_, i) => record({ pod: `c${i}`, at: NOON - 2 * HOUR + i }));
    const noise = Array.from({ length: 70 }, (_, i) =>
      record({ pod: `n${i}`, at: NOON - MINUTE + i, result: "Blocked" }),
    );
    const kept = pruneRecords([...counted, ...noise], settings, NOON, () => false);
    expect(kept).toHaveLength(MAX_RECORDS);
    for (const c of counted) expect(kept).toContain(c);
    expect(kept.some((r) => r.pod === "n0")).toBe(false);
    expect(kept.some((r) => r.pod === "n69")).toBe(true);
  });
});

describe("inAnyWindow", () => {
  const windows = (
    w: {
      days?: ("Mon" | "Tue" | "Wed" | "Thu" | "Fri" | "Sat" | "Sun")[];
      start: string;
      end: string;
      timeZone?: string;
    }[],
  ) => restartSettings({ windows: w }).windows;

  it("a daytime window on weekdays", () => {
    const w = windows([{ days: ["Mon", "Tue", "Wed", "Thu", "Fri"], start: "09:00", end: "17:00" }]);
    expect(inAnyWindow(w, Date.UTC(2025, 0, 15, 9, 0))).toBe(true); // Wednesday, start inclusive
    expect(inAnyWindow(w, Date.UTC(2025, 0, 15, 16, 59))).toBe(true);
    expect(inAnyWindow(w, Date.UTC(2025, 0, 15, 17, 0))).toBe(false); // end exclusive
    expect(inAnyWindow(w, Date.UTC(2025, 0, 18, 12, 0))).toBe(false); // Saturday
  });

  it("a window past midnight belongs to the day it starts", () => {
    const w = windows([{ days: ["Fri"], start: "22:00", end: "02:00" }]);
    expect(inAnyWindow(w, Date.UTC(2025, 0, 17, 23, 0))).toBe(true); // Friday 23:00
    expect(inAnyWindow(w, Date.UTC(2025, 0, 18, 1, 59))).toBe(true); // Saturday 01:59: Friday's night
    expect(inAnyWindow(w, Date.UTC(2025, 0, 18, 2, 0))).toBe(false);
    expect(inAnyWindow(w, Date.UTC(2025, 0, 17, 1, 0))).toBe(false); // Friday 01:00 is Thursday's night
    expect(inAnyWindow(w, Date.UTC(2025, 0, 18, 23, 0))).toBe(false); // Saturday 23:00
    expect(inAnyWindow(w, Date.UTC(2025, 0, 17, 0, 0))).toBe(false); // midnight into Friday
  });

  it("reads the wall clock of the window's time zone", () => {
    const w = windows([{ start: "02:00", end: "04:00", timeZone: "Europe/Berlin" }]);
    expect(inAnyWindow(w, Date.UTC(2025, 0, 15, 1, 30))).toBe(true); // 02:30 CET
    expect(inAnyWindow(w, Date.UTC(2025, 6, 15, 1, 30))).toBe(true); // 03:30 CEST
    expect(inAnyWindow(w, Date.UTC(2025, 0, 15, 3, 0))).toBe(false); // 04:00 CET
    const kathmandu = windows([{ start: "00:00", end: "00:30", timeZone: "Asia/Kathmandu" }]); // UTC+05:45
    expect(inAnyWindow(kathmandu, Date.UTC(2025, 0, 14, 18, 20))).toBe(true); // 00:05
    expect(inAnyWindow(kathmandu, Date.UTC(2025, 0, 14, 18, 50))).toBe(false); // 00:35
    // Midnight itself, where some ICU versions write hour 24.
    const midnight = windows([{ days: ["Thu"], start: "00:00", end: "01:00", timeZone: "America/New_York" }]);
    expect(inAnyWindow(midnight, Date.UTC(2025, 0, 16, 5, 0))).toBe(true); // Thu 00:00 EST
  });

  it("follows daylight saving time: a skipped hour never comes, a repeated one comes twice", () => {
    // New York springs forward on 2025-03-09: 02:00 EST becomes 03:00 EDT.
    const skipped = windows([{ start: "02:00", end: "03:00", timeZone: "America/New_York" }]);
    const dayOfChange = Array.from(
      { length: 24 * 12 },
      (_, i) => Date.UTC(2025, 2, 9, 0, 0) + i * 5 * MINUTE,
    );
    // The day's 24 UTC hours are 19:00 EST on the 8th to 20:00 EDT on the 9th: no 02:xx among them.
    expect(dayOfChange.filter((t) => inAnyWindow(skipped, t))).toEqual([]);
    expect(inAnyWindow(skipped, Date.UTC(2025, 2, 10, 6, 30))).toBe(true); // the next day, 02:30 EDT
    const around = windows([{ start: "01:00", end: "04:00", timeZone: "America/New_York" }]);
    expect(inAnyWindow(around, Date.UTC(2025, 2, 9, 6, 30))).toBe(true); // 01:30 EST
    expect(inAnyWindow(around, Date.UTC(2025, 2, 9, 7, 30))).toBe(true); // 03:30 EDT
    expect(inAnyWindow(around, Date.UTC(2025, 2, 9, 8, 0))).toBe(false); // 04:00 EDT
    // Falls back on 2025-11-02: 01:00–02:00 happens twice, both inside.
    const repeated = windows([{ start: "01:00", end: "02:00", timeZone: "America/New_York" }]);
    expect(inAnyWindow(repeated, Date.UTC(2025, 10, 2, 5, 30))).toBe(true); // 01:30 EDT
    expect(inAnyWindow(repeated, Date.UTC(2025, 10, 2, 6, 30))).toBe(true); // 01:30 EST
    expect(inAnyWindow(repeated, Date.UTC(2025, 10, 2, 7, 0))).toBe(false); // 02:00 EST
  });

  it("a window past midnight across a DST change still belongs to its starting day", () => {
    const w = windows([{ days: ["Sat"], start: "23:00", end: "03:00", timeZone: "Europe/London" }]);
    // Sunday 2025-03-30, London springs forward at 01:00 GMT → 02:00 BST.
    expect(inAnyWindow(w, Date.UTC(2025, 2, 29, 23, 30))).toBe(true); // Sat 23:30 GMT
    expect(inAnyWindow(w, Date.UTC(2025, 2, 30, 0, 30))).toBe(true); // Sun 00:30 GMT
    expect(inAnyWindow(w, Date.UTC(2025, 2, 30, 1, 30))).toBe(true); // Sun 02:30 BST
    expect(inAnyWindow(w, Date.UTC(2025, 2, 30, 2, 0))).toBe(false); // Sun 03:00 BST
  });
});
