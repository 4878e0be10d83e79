import { describe, expect, it } from "vitest";
import type { LeakWatchStatus } from "../../../src/api/types.ts";
import { createMergePatch, jsonEqual } from "../../../src/kube/json-patch.ts";
import { findCondition, isSignificantChange, setCondition } from "../../../src/kube/status.ts";

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const T1 = T0 + 60_000;

describe("setCondition", () => {
  it("adds a condition with the transition time and observed generation", () => {
    const list = setCondition(
      undefined,
      { type: "Ready", status: "True", reason: "Watching", message: "ok", observedGeneration: 3 },
      T0,
    );
    expect(list).toEqual([
      {
        type: "Ready",
        status: "True",
        reason: "Watching",
        message: "ok",
        lastTransitionTime: "2025-01-01T12:00:00Z",
        observedGeneration: 3,
      },
    ]);
  });

  it("keeps lastTransitionTime while the status stays, even when reason and message change", () => {
    const first = setCondition(
      [],
      { type: "LeakDetected", status: "True", reason: "Leaking", message: "1 pod" },
      T0,
    );
    const second = setCondition(
      first,
      { type: "LeakDetected", status: "True", reason: "Leaking", message: "2 pods", observedGeneration: 4 },
      T1,
    );
    expect(findCondition(second, "LeakDetected")).toMatchObject({
      message: "2 pods",
      lastTransitionTime: "2025-01-01T12:00:00Z",
      observedGeneration: 4,
    });
  });

  it("moves lastTransitionTime when the status changes, and leaves other conditions and the input alone", () => {
    const first = [
      ...setCondition([], { type: "Ready", status: "True", reason: "Watching", message: "" }, T0),
      ...setCondition([], { type: "LeakDetected", status: "False", reason: "NoLeak", message: "" }, T0),
    ];
    const second = setCondition(
      first,
      { type: "LeakDetected", status: "True", reason: "Leaking", message: "" },
      T1,
    );
    expect(second.map((c) => c.type)).toEqual(["Ready", "LeakDetected"]);
    expect(findCondition(second, "LeakDetected")?.lastTransitionTime).toBe("2025-01-01T12:01:00Z");
    expect(findCondition(second, "Ready")?.lastTransitionTime).toBe("2025-01-01T12:00:00Z");
    expect(findCondition(first, "LeakDetected")?.status).toBe("False");
  });

  it("bounds the message", () => {
    const list = setCondition(
      [],
      { type: "Ready", status: "False", reason: "X", message: "m".repeat(40_000) },
      T0,
    );
    expect(Buffer.byteLength(list[0]?.message ?? "")).toBeLessThanOrEqual(32768);
  });
});

describe("merge patches", () => {
  it("holds only what changed, null for what went away; arrays are replaced whole", () => {
    const from = {
      watched: 3,
      leaking: 1,
      pods: [{ pod: "a", verdict: "Leaking" }],
      conditions: [{ type: "Ready" }],
    };
    const to = {
      watched: 3,
      pods: [{ pod: "a", verdict: "Healthy" }],
      conditions: [{ type: "Ready" }],
      healthy: 1,
    };
    expect(createMergePatch(from, to)).toEqual({
      leaking: null,
      pods: [{ pod: "a", verdict: "Healthy" }],
      healthy: 1,
    });
    expect(createMergePatch(to, to)).toEqual({});
  });

  it("recurses into objects", () => {
    expect(createMergePatch({ a: { b: 1, c: 2 } }, { a: { b: 1, c: 3 } })).toEqual({ a: { c: 3 } });
  });

  it("jsonEqual ignores key order and undefined-valued keys", () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined })).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: null })).toBe(false);
  });
});

describe("isSignificantChange", () => {
  const base: LeakWatchStatus = {
    observedGeneration: 2,
    watched: 2,
    healthy: 1,
    suspected: 1,
    conditions: setCondition(
      [],
      { type: "LeakDetected", status: "False", reason: "NoLeak", message: "" },
      T0,
    ),
    pods: [
      { pod: "a", verdict: "Suspected", heap: "40 MiB", growthPerHour: "2 MiB" },
      { pod: "b", verdict: "Healthy", heap: "30 MiB" },
    ],
  };

  it("is false when only figures moved", () => {
    const next = structuredClone(base);
    next.pods = [
      { pod: "a", verdict: "Suspected", heap: "44 MiB", growthPerHour: "3 MiB" },
      { pod: "b", verdict: "Healthy", heap: "31 MiB" },
    ];
    expect(isSignificantChange(base, next)).toBe(false);
  });

  it.each<[string, (s: LeakWatchStatus) => void]>([
    [
      "a pod's verdict",
      (s) => {
        s.pods = [
          { pod: "a", verdict: "Leaking" },
          { pod: "b", verdict: "Healthy" },
        ];
      },
    ],
    [
      "a verdict count",
      (s) => {
        s.suspected = 0;
        s.leaking = 1;
      },
    ],
    [
      "a condition's status",
      (s) => {
        s.conditions = setCondition(
          s.conditions,
          { type: "LeakDetected", status: "True", reason: "Leaking", message: "" },
          T1,
        );
      },
    ],
    [
      "the observed generation",
      (s) => {
        s.observedGeneration = 3;
      },
    ],
    [
      "a new capture",
      (s) => {
        s.captures = [
          { name: "c", pod: "a", time: "2025-01-01T00:00:00Z", headline: "", bytes: 1, complete: true },
        ];
      },
    ],
  ])("is true for %s", (_, change) => {
    const next = structuredClone(base);
    change(next);
    expect(isSignificantChange(base, next)).toBe(true);
  });

  it("is true when nothing was written before", () => {
    expect(isSignificantChange(undefined, base)).toBe(true);
  });
});
