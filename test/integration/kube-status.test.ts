// The status writer against a real API server: writes through the status subresource only when
// the status changed, holds back insignificant changes, survives a concurrent conflicting write,
// and gives up with a typed error after a bounded number of conflicts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LeakWatchStatus } from "../../src/api/types.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { KubeApiError } from "../../src/kube/errors.ts";
import {
  StatusConflictError,
  StatusWriter,
  setCondition,
  type LeakWatchKey,
  type ObservedLeakWatch,
} from "../../src/kube/status.ts";
import { controlPlane, freshNamespace } from "../harness/kube.ts";

interface LeakWatchObject extends ObservedLeakWatch {
  metadata: { namespace: string; name: string; resourceVersion: string; generation: number };
  spec: Record<string, unknown>;
}

let client: KubeClient;

beforeAll(async () => {
  client = await KubeClient.load({ kubeconfig: controlPlane().kubeconfigPath });
});

afterAll(() => {
  client.close();
});

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

function path(key: LeakWatchKey): string {
  return `/apis/leakwatch.dev/v1alpha1/namespaces/${key.namespace}/leakwatches/${key.name}`;
}

async function newLeakWatch(prefix: string): Promise<LeakWatchKey> {
  const namespace = await freshNamespace(prefix);
  await client.create(`/apis/leakwatch.dev/v1alpha1/namespaces/${namespace}/leakwatches`, {
    apiVersion: "leakwatch.dev/v1alpha1",
    kind: "LeakWatch",
    metadata: { name: "checkout" },
    spec: { selector: {} },
  });
  return { namespace, name: "checkout" };
}

async function read(key: LeakWatchKey): Promise<LeakWatchObject> {
  return client.get<LeakWatchObject>(path(key));
}

function status(verdict: "Healthy" | "Suspected" | "Leaking", heap: string, now = T0): LeakWatchStatus {
  const leaking = verdict === "Leaking";
  return {
    observedGeneration: 1,
    conditions: setCondition(
      setCondition(
        [],
        {
          type: "Ready",
          status: "True",
          reason: "Watching",
          message: "1 pod watched",
          observedGeneration: 1,
        },
        now,
      ),
      {
        type: "LeakDetected",
        status: leaking ? "True" : "False",
        reason: leaking ? "Leaking" : "NoLeak",
        message: "",
        observedGeneration: 1,
      },
      now,
    ),
    watched: 1,
    healthy: verdict === "Healthy" ? 1 : 0,
    suspected: verdict === "Suspected" ? 1 : 0,
    leaking: leaking ? 1 : 0,
    pods: [{ pod: "checkout-1", verdict, heap, growthPerHour: "2 MiB" }],
  };
}

describe("StatusWriter against the API server", () => {
  it("writes through the status subresource, and skips a write when nothing changed", async () => {
    const key = await newLeakWatch("status-skip");
    const writer = new StatusWriter({ client, minIntervalMs: 0 });
    const desired = status("Healthy", "40 MiB");
    const first = await writer.write(key, desired);
    expect(first).toMatchObject({ result: "written", attempts: 1 });

    const stored = await read(key);
    expect(stored.status).toEqual(desired);
    expect(stored.metadata.generation).toBe(1); // status writes never bump the spec's generation

    expect(await writer.write(key, structuredClone(desired))).toEqual({ result: "unchanged" });
    expect((await read(key)).metadata.resourceVersion).toBe(stored.metadata.resourceVersion);

    // A restarted writer compares against what the API server holds (via observe, or a read).
    const restarted = new StatusWriter({ client, minIntervalMs: 0 });
    expect(await restarted.write(key, desired)).toEqual({ result: "unchanged" });
    const observing = new StatusWriter({ client, minIntervalMs: 0 });
    observing.observe(stored);
    expect(await observing.write(key, desired)).toEqual({ result: "unchanged" });
    expect((await read(key)).metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
  });

  it("holds back moved figures within minIntervalMs, but writes a verdict change at once", async () => {
    const key = await newLeakWatch("status-rate");
    const clock = { now: T0 };
    const writer = new StatusWriter({ client, minIntervalMs: 5 * 60_000, now: () => clock.now });
    await writer.write(key, status("Suspected", "40 MiB"));

    clock.now += 60_000;
    expect(await writer.write(key, status("Suspected", "44 MiB"))).toEqual({
      result: "deferred",
      retryAfterMs: 4 * 60_000,
    });
    expect((await read(key)).status?.pods?.[0]?.heap).toBe("40 MiB");

    // Conditions are carried over from what the API server holds: only LeakDetected transitions.
    const before = (await read(key)).status?.conditions;
    const leaking: LeakWatchStatus = {
      ...status("Leaking", "46 MiB"),
      conditions: setCondition(
        setCondition(
          before,
          { type: "Ready", status: "True", reason: "Watching", message: "1 pod watched" },
          clock.now,
        ),
        { type: "LeakDetected", status: "True", reason: "Leaking", message: "checkout-1: 6 MiB/h" },
        clock.now,
      ),
    };
    expect((await writer.write(key, leaking)).result).toBe("written");
    const stored = await read(key);
    expect(stored.status?.pods?.[0]).toMatchObject({ verdict: "Leaking", heap: "46 MiB" });
    const conditions = stored.status?.conditions ?? [];
    expect(conditions.find((c) => c.type === "LeakDetected")).toMatchObject({
      status: "True",
      lastTransitionTime: "2025-01-01T12:01:00Z",
    });
    expect(conditions.find((c) => c.type === "Ready")?.lastTransitionTime).toBe("2025-01-01T12:00:00Z");

    clock.now += 5 * 60_000;
    expect((await writer.write(key, status("Leaking", "50 MiB", clock.now))).result).toBe("written");
  });

  it("survives a concurrent conflicting write: re-reads, and leaves exactly the desired status", async () => {
    const key = await newLeakWatch("status-conflict");
    const writer = new StatusWriter({ client, minIntervalMs: 0 });
    await writer.write(key, status("Healthy", "40 MiB"));

    // Someone else writes the status (another replica, kubectl): our cached version is stale.
    await client.patch(
      `${path(key)}/status`,
      { status: { failing: 3, pods: [{ pod: "other", verdict: "Failing", lastError: "timeout" }] } },
      "merge",
    );
    const desired = status("Suspected", "42 MiB");
    const result = await writer.write(key, desired);
    expect(result).toMatchObject({ result: "written", attempts: 2 });
    expect((await read(key)).status).toEqual(desired);
  });

  it("also conflicts on a spec change in between, and gives up after maxAttempts with a typed error", async () => {
    const key = await newLeakWatch("status-giveup");
    const writer = new StatusWriter({ client, minIntervalMs: 0 });
    await writer.write(key, status("Healthy", "40 MiB"));
    await client.patch(path(key), { spec: { interval: "30s" } }, "merge");
    expect(await writer.write(key, status("Suspected", "41 MiB"))).toMatchObject({ attempts: 2 });

    let patches = 0;
    const alwaysConflicting = {
      get: client.get.bind(client),
      patch: <T>(): Promise<T> => {
        patches++;
        return Promise.reject(
          new KubeApiError({
            status: 409,
            reason: "Conflict",
            message: "changed",
            method: "PATCH",
            path: "",
          }),
        );
      },
    };
    const stubborn = new StatusWriter({ client: alwaysConflicting, minIntervalMs: 0, maxAttempts: 3 });
    await expect(stubborn.write(key, status("Leaking", "50 MiB"))).rejects.toBeInstanceOf(
      StatusConflictError,
    );
    expect(patches).toBe(3);
  });
});
