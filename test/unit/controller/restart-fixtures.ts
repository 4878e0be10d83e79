// Shared builders for the restart tests: settings, workloads, records, assessments.
import { resolveSpec, type RestartSettings } from "../../../src/api/defaults.ts";
import type { RestartRecord, RestartSpec } from "../../../src/api/types.ts";
import type { RestartInput, WorkloadStatus } from "../../../src/controller/restart-policy.ts";
import type { MetricAssessment } from "../../../src/detect/index.ts";
import type { SavedCapture } from "../../../src/kube/captures.ts";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
/** Wednesday 2025-01-15 12:00:00 UTC. */
export const NOON = Date.UTC(2025, 0, 15, 12, 0, 0);

/** Restart settings through the real spec resolution (defaults and window parsing included). */
export function restartSettings(spec: RestartSpec = {}): RestartSettings {
  const settings = resolveSpec({ selector: {}, action: { mode: "Restart", restart: spec } });
  if (settings.action.mode !== "Restart") throw new Error("unreachable");
  return settings.action.restart;
}

export function deployment(overrides: Partial<WorkloadStatus> = {}): WorkloadStatus {
  return {
    kind: "Deployment",
    name: "web",
    uid: "uid-web",
    replicas: 3,
    available: 3,
    updated: 3,
    observed: true,
    paused: false,
    rollable: true,
    restartedAt: undefined,
    ...overrides,
  };
}

export function record(overrides: Partial<RestartRecord> & { at: number }): RestartRecord {
  const { at, ...rest } = overrides;
  return {
    pod: "web-1",
    workload: "Deployment/web",
    time: new Date(at).toISOString(),
    strategy: "Evict",
    reason: "heap leaking",
    result: "Restarted",
    ...rest,
  };
}

/** A pod that passes every guard; tests change one thing at a time. */
export function input(overrides: Partial<RestartInput> = {}): RestartInput {
  return {
    settings: restartSettings({ cooldown: "1h", budget: { restarts: 3, per: "24h" } }),
    intervalMs: 60_000,
    now: NOON,
    pod: "web-0",
    podReady: true,
    podStartedAt: NOON - 3 * HOUR,
    leaking: true,
    timeToLimitMs: 2 * HOUR,
    hasMemoryLimit: true,
    optedOut: false,
    snoozedUntil: undefined,
    workload: deployment(),
    captureStored: true,
    records: [],
    unavailable: 0,
    workloadUnavailable: 0,
    stale: undefined,
    ...overrides,
  };
}

export function heapAssessment(overrides: Partial<MetricAssessment> = {}): MetricAssessment {
  return {
    verdict: "Leaking",
    tier: "fast",
    slopePerHour: 64 * 1024 * 1024,
    slopePercentPerHour: 50,
    confidence: 0.999,
    growingForMs: 10 * MINUTE,
    timeToCeilingMs: null,
    level: 100 * 1024 * 1024,
    reasons: ["grows steadily"],
    ...overrides,
  };
}

export function savedCapture(name: string, pod: string): SavedCapture {
  return {
    name,
    bytes: 1024,
    complete: true,
    meta: {
      leakWatch: { name: "lw", uid: "uid-lw" },
      namespace: "ns",
      pod,
      createdAt: new Date(NOON).toISOString(),
      headline: "main.appendChunk",
      reason: "heap",
      maxBytes: 4 << 20,
      omitted: [],
    },
  };
}
