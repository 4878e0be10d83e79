// The restart coordinator's conduct, scripted against the simulated cluster: one event per streak,
// the record stored before acting, dry run, blocked and lost attempts, the last replica.
import { describe, expect, it } from "vitest";
import { SimWorld, type SimScenario, type SimStep } from "./restart-sim.ts";

function step(overrides: Partial<SimStep> = {}): SimStep {
  return {
    dtMs: 1_000,
    jumpMs: 0,
    restartOperator: false,
    pick: 0,
    leaking: true,
    ttlMinutes: null,
    captured: true,
    flips: [],
    api: [],
    reads: [],
    statusWrite: "ok",
    watchDownFor: 0,
    staleScrape: false,
    ...overrides,
  };
}

function scenario(overrides: Partial<SimScenario> = {}, steps: SimStep[] = []): SimScenario {
  return {
    restart: { strategy: "Evict", cooldown: "1h", budget: { restarts: 3, per: "24h" } },
    intervalS: 1,
    replicas: [3],
    optOutEvery: 0,
    snoozeEvery: 0,
    snoozeMs: 0,
    memoryLimitEvery: 0,
    statusLagMs: 0,
    cacheLagTicks: 0,
    replicaSetLagMs: 0,
    maxStepBackMs: 0,
    steps,
    ...overrides,
  };
}

const reasons = (world: SimWorld, kind = "Pod"): string[] =>
  world.events.filter((e) => e.regarding.kind === kind).map((e) => e.reason);

describe("restart coordinator", () => {
  it("evicts a leaking pod with its capture, records it, and tells the pod, its workload and the LeakWatch", async () => {
    const world = new SimWorld(scenario({}, [step()]));
    await world.run();
    expect(world.performed).toHaveLength(1);
    expect(world.persisted).toEqual([
      expect.objectContaining({
        strategy: "Evict",
        result: "Restarted",
        by: "sim-operator",
        workload: "Deployment/d0",
      }),
    ]);
    expect(world.persisted[0]?.capture).toMatch(/^cap-/);
    const restarted = world.events.filter((e) => e.reason === "LeakRestarted");
    expect(restarted.map((e) => e.regarding.kind)).toEqual(["Pod", "Deployment", "LeakWatch"]);
    expect(restarted[0]?.note).toMatch(
      /evicted d0-t1-\d+ at .* \(by sim-operator, strategy Evict\): heap leaking .*Evidence: capture cap-/,
    );
    expect(restarted[0]?.type).toBe("Normal");
  });

  it("reports a hold once per streak, not once per scrape", async () => {
    const world = new SimWorld(
      scenario(
        { optOutEvery: 1 },
        Array.from({ length: 30 }, () => step()),
      ),
    );
    await world.run();
    expect(world.performed).toHaveLength(0);
    expect(reasons(world)).toEqual(["RestartSkipped"]);
    expect(reasons(world, "LeakWatch")).toEqual(["RestartSkipped"]);
  });

  it("waits for the capture, and says so once", async () => {
    const steps = [...Array.from({ length: 5 }, () => step({ captured: false })), step()];
    const world = new SimWorld(scenario({}, steps));
    await world.run();
    expect(reasons(world)).toEqual(["RestartWaiting", "LeakRestarted"]);
    expect(world.events[0]?.note).toContain("waiting for the capture");
    expect(world.performed).toHaveLength(1);
  });

  it("without a capture proceeds only when the limit is within the critical horizon, and warns", async () => {
    const world = new SimWorld(scenario({ memoryLimitEvery: 1 }, [step({ captured: false, ttlMinutes: 4 })]));
    await world.run();
    expect(world.performed).toHaveLength(1);
    const event = world.events.find((e) => e.reason === "LeakRestarted");
    expect(event?.type).toBe("Warning");
    expect(event?.note).toContain("WITHOUT evidence");
  });

  it("stores the record before acting: no status, no restart", async () => {
    const world = new SimWorld(
      scenario(
        {},
        Array.from({ length: 10 }, () => step({ statusWrite: "fail" })),
      ),
    );
    await world.run();
    expect(world.performed).toHaveLength(0);
    expect(world.persisted).toEqual([]);
    expect(reasons(world)).toEqual([]);
  });

  it("dry run: WouldRestart once per pod, a DryRun record, nothing else", async () => {
    const steps = Array.from({ length: 12 }, (_, i) => step({ pick: i }));
    const world = new SimWorld(scenario({ restart: { dryRun: true, cooldown: "0s" } }, steps));
    await world.run();
    expect(world.performed).toHaveLength(0);
    expect(reasons(world).filter((r) => r === "WouldRestart")).toHaveLength(3);
    expect(world.persisted.every((r) => r.result === "DryRun" && r.dryRun === true)).toBe(true);
    expect(new Set(world.persisted.map((r) => r.pod)).size).toBe(3);
    expect(world.events.find((e) => e.reason === "WouldRestart")?.note).toMatch(
      /\(dryRun\) would evict .*Nothing was changed/,
    );
  });

  it("a refused eviction is Blocked, retried after the backoff, and spends no budget", async () => {
    const steps = [
      step({ api: ["429"] }),
      ...Array.from({ length: 8 }, () => step({ api: ["429"], dtMs: 500 })),
      step({ dtMs: 30_000 }),
    ];
    const world = new SimWorld(scenario({ restart: { budget: { restarts: 1 } } }, steps));
    await world.run();
    expect(world.performed).toHaveLength(1);
    const blocked = world.events.filter((e) => e.reason === "RestartBlocked" && e.regarding.kind === "Pod");
    // The API asked for 10 s (Retry-After): the scrapes within them do not try again.
    expect(blocked).toHaveLength(1);
    expect(blocked[0]?.type).toBe("Warning");
    expect(blocked[0]?.note).toMatch(/could not evict .*Retrying in 10s \(attempt 1\)/);
    // One record for the pod: the blocked attempt was replaced by the one that went through.
    expect(world.persisted.map((r) => r.result)).toEqual(["Restarted"]);
  });

  it("a lost answer keeps the record Pending (it counts), then the cluster says what happened", async () => {
    const steps = [
      step({ api: ["lostBefore"] }),
      ...Array.from({ length: 5 }, () => step({ dtMs: 1_000 })),
      step({ dtMs: 20_000 }),
      step(),
    ];
    const world = new SimWorld(scenario({}, steps));
    await world.step(steps[0] ?? step());
    expect(world.persisted.map((r) => r.result)).toEqual(["Pending"]);
    for (const s of steps.slice(1)) await world.step(s);
    expect(world.performed).toHaveLength(1);
    expect(world.persisted.map((r) => r.result)).toEqual(["Restarted"]);
  });

  it("a crash after the eviction: the next operator finds the Pending record and does not evict again", async () => {
    const steps = [
      step({ api: ["crashAfter"] }),
      ...Array.from({ length: 30 }, (_, i) => step({ pick: i, dtMs: 2_000 })),
    ];
    const world = new SimWorld(scenario({ restart: { cooldown: "0s", budget: { restarts: 1 } } }, steps));
    await world.run();
    expect(world.performed).toHaveLength(1);
    expect(world.persisted.map((r) => r.result)).toEqual(["Pending"]);
    expect(reasons(world)).toContain("RestartBudgetExhausted");
  });

  it("a single-replica Deployment is not evicted; the advice is RolloutRestart", async () => {
    const world = new SimWorld(scenario({ replicas: [1] }, [step(), step()]));
    await world.run();
    expect(world.performed).toHaveLength(0);
    const skipped = world.events.filter((e) => e.reason === "RestartSkipped" && e.regarding.kind === "Pod");
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.type).toBe("Warning");
    expect(skipped[0]?.note).toContain("use strategy RolloutRestart");
  });

  it("a rollout restart patches the Deployment once and waits for it to finish", async () => {
    const steps = Array.from({ length: 20 }, (_, i) => step({ pick: i }));
    const world = new SimWorld(
      scenario({ replicas: [1], restart: { strategy: "RolloutRestart", cooldown: "0s" } }, steps),
    );
    await world.run();
    expect(world.performed.map((p) => p.kind)).toEqual(["RolloutRestart"]);
    expect(world.persisted).toEqual([
      expect.objectContaining({ strategy: "RolloutRestart", result: "Restarted" }),
    ]);
  });
});
