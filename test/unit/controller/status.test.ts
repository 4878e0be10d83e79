import { describe, expect, it } from "vitest";
import { buildStatus, type StatusInput, type TargetView } from "../../../src/controller/status.ts";
import type { Target } from "../../../src/controller/targets.ts";

function target(pod: string): Target {
  return {
    key: `ns/${pod}/app`,
    namespace: "ns",
    pod,
    podUID: `uid-${pod}`,
    container: "app",
    image: "img:1",
    owner: undefined,
    workload: { kind: "Deployment", name: "web" },
    address: "10.0.0.1",
    port: 6060,
    scheme: "http",
    heapPath: "/debug/pprof/heap",
    goroutinePath: "/debug/pprof/goroutine",
    goroutineLeakPath: "",
    goroutinePort: 6060,
    memoryLimitBytes: 512 << 20,
    restartCount: 0,
    startedAt: 0,
    lastTerminationReason: undefined,
    ready: true,
    restartOptOut: false,
    snoozedUntil: undefined,
    problems: [],
  };
}

function view(
  pod: string,
  verdict: "Collecting" | "Healthy" | "Suspected" | "Leaking",
  heapBytes: number,
  pct = 0,
): TargetView {
  return {
    target: target(pod),
    heap: {
      verdict,
      tier: verdict === "Leaking" ? "fast" : null,
      slopePerHour: heapBytes * (pct / 100),
      slopePercentPerHour: pct,
      timeToCeilingMs: verdict === "Leaking" ? 3 * 3_600_000 : null,
    },
    goroutines: {
      verdict: "Healthy",
      tier: null,
      slopePerHour: 0,
      slopePercentPerHour: 0,
      timeToCeilingMs: null,
    },
    heapBytes,
    goroutineCount: 123,
    failing: undefined,
    problem: undefined,
  };
}

function input(views: TargetView[], overrides: Partial<StatusInput> = {}): StatusInput {
  return {
    generation: 4,
    phase: { kind: "Watching" },
    views,
    skipped: [],
    captures: [],
    restarts: [],
    previousConditions: undefined,
    now: new Date("2026-11-28T10:00:00Z"),
    ...overrides,
  };
}

describe("status", () => {
  it("counts verdicts and lists the worst pods first, healthy ones not at all", () => {
    const s = buildStatus(
      input([
        view("a", "Healthy", 10 << 20),
        view("b", "Leaking", 80 << 20, 12),
        view("c", "Suspected", 50 << 20, 4),
        view("d", "Collecting", 1 << 20),
      ]),
    );
    expect(s).toMatchObject({
      observedGeneration: 4,
      watched: 4,
      healthy: 1,
      leaking: 1,
      suspected: 1,
      collecting: 1,
      failing: 0,
    });
    expect(s.pods?.map((p) => [p.pod, p.verdict])).toEqual([
      ["b", "Leaking"],
      ["c", "Suspected"],
      ["d", "Collecting"],
    ]);
    expect(s.pods?.[0]).toMatchObject({
      heap: "80Mi",
      growthPerHour: "9.6Mi/h",
      growthPercentPerHour: 12,
      timeToLimit: "3h",
      goroutines: 120,
      workload: "Deployment/web",
    });
    expect(s.workloads).toEqual([
      {
        kind: "Deployment",
        name: "web",
        image: "img:1",
        pods: 4,
        suspected: 1,
        leaking: 1,
        maxGrowthPercentPerHour: 12,
      },
    ]);
    expect(s.conditions?.find((c) => c.type === "LeakDetected")).toMatchObject({
      status: "True",
      reason: "MemoryLeak",
      message: "leaking: b",
    });
  });

  it("does not change when figures move less than what is shown", () => {
    const first = buildStatus(input([view("b", "Leaking", 80 << 20, 12)]));
    const second = buildStatus(
      input([view("b", "Leaking", (80 << 20) + 200_000, 12)], {
        previousConditions: first.conditions,
        now: new Date("2026-11-28T10:05:00Z"),
      }),
    );
    expect(second).toEqual(first);
  });

  it("keeps a condition's transition time until its status flips", () => {
    const first = buildStatus(input([view("b", "Leaking", 80 << 20, 12)]));
    const later = buildStatus(
      input([view("b", "Healthy", 80 << 20)], {
        previousConditions: first.conditions,
        now: new Date("2026-11-28T11:00:00Z"),
      }),
    );
    const ready = (s: typeof first) => s.conditions?.find((c) => c.type === "Ready");
    const leak = (s: typeof first) => s.conditions?.find((c) => c.type === "LeakDetected");
    expect(ready(later)?.lastTransitionTime).toBe("2026-11-28T10:00:00Z");
    expect(leak(later)).toMatchObject({ status: "False", lastTransitionTime: "2026-11-28T11:00:00Z" });
  });

  it("says why it is not watching", () => {
    const invalid = buildStatus(input([], { phase: { kind: "InvalidSpec", message: "spec.interval: bad" } }));
    expect(invalid.conditions?.[0]).toMatchObject({
      type: "Ready",
      status: "False",
      reason: "InvalidSpec",
      message: "spec.interval: bad",
    });
    const none = buildStatus(input([], { skipped: [{ pod: "x", reason: "no port" }] }));
    expect(none.conditions?.[0]).toMatchObject({ status: "True", reason: "NoTargets" });
    expect(none.conditions?.[0]?.message).toContain("x (no port)");
  });

  it("reports failing pods with their error", () => {
    const failing: TargetView = {
      ...view("f", "Collecting", 0),
      heapBytes: undefined,
      failing: { error: "connect ECONNREFUSED", failures: 4 },
    };
    const s = buildStatus(input([failing]));
    expect(s.failing).toBe(1);
    expect(s.pods?.[0]).toMatchObject({ pod: "f", verdict: "Failing", lastError: "connect ECONNREFUSED" });
    expect(s.conditions?.find((c) => c.type === "ScrapesFailing")).toMatchObject({ status: "True" });
  });
});
