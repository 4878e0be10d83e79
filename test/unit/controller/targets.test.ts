import { describe, expect, it } from "vitest";
import { resolveSpec } from "../../../src/api/defaults.ts";
import { refusedAddress } from "../../../src/controller/address.ts";
import { discoverTargets, workloadOf } from "../../../src/controller/targets.ts";
import type { PodInfo } from "../../../src/kube/pods.ts";

function pod(overrides: Partial<PodInfo> & { name: string }): PodInfo {
  return {
    namespace: "shop",
    uid: `uid-${overrides.name}`,
    resourceVersion: "1",
    labels: { app: "checkout" },
    annotations: { "leakwatch.dev/scrape": "true" },
    owner: undefined,
    podIP: "10.1.2.3",
    phase: "Running",
    deleting: false,
    ready: true,
    containers: [
      {
        name: "app",
        image: "img:1",
        ports: [{ name: "pprof", containerPort: 6060 }],
        memoryLimitBytes: 256 << 20,
      },
    ],
    containerStatuses: [
      {
        name: "app",
        started: true,
        ready: true,
        restartCount: 0,
        startedAt: 1,
        lastTerminationReason: undefined,
        lastTerminatedAt: undefined,
      },
    ],
    ...overrides,
  };
}

const settings = resolveSpec({ selector: { matchLabels: { app: "checkout" } }, target: { port: "pprof" } });

describe("target discovery", () => {
  it("watches opted-in running pods the selector matches, resolving named ports", () => {
    const { targets, skipped } = discoverTargets(settings, [
      pod({ name: "a" }),
      pod({ name: "other-app", labels: { app: "cart" } }),
      pod({ name: "not-opted-in", annotations: {} }),
    ]);
    expect(targets.map((t) => [t.key, t.address, t.port, t.memoryLimitBytes])).toEqual([
      ["shop/a/app", "10.1.2.3", 6060, 256 << 20],
    ]);
    expect(skipped).toEqual([]);
  });

  it("keeps watching a pod that turned unready (it may be near OOM), but not one that has not started", () => {
    const { targets } = discoverTargets(settings, [
      pod({ name: "unready", ready: false }),
      pod({ name: "pending", phase: "Pending" }),
      pod({ name: "deleting", deleting: true }),
      pod({
        name: "not-started",
        containerStatuses: [
          {
            name: "app",
            started: false,
            ready: false,
            restartCount: 0,
            startedAt: undefined,
            lastTerminationReason: undefined,
            lastTerminatedAt: undefined,
          },
        ],
      }),
    ]);
    expect(targets.map((t) => t.pod)).toEqual(["unready"]);
  });

  it("lets pod annotations override the LeakWatch and picks the container that serves pprof", () => {
    const { targets } = discoverTargets(settings, [
      pod({
        name: "sidecar",
        annotations: {
          "profiles.grafana.com/memory.scrape": "true",
          "profiles.grafana.com/memory.port": "7070",
          "leakwatch.dev/container": "worker",
        },
        containers: [
          { name: "proxy", image: "envoy", ports: [], memoryLimitBytes: undefined },
          {
            name: "worker",
            image: "img:2",
            ports: [{ name: "http", containerPort: 7070 }],
            memoryLimitBytes: 1 << 30,
          },
        ],
        containerStatuses: [
          {
            name: "proxy",
            started: true,
            ready: true,
            restartCount: 0,
            startedAt: 1,
            lastTerminationReason: undefined,
            lastTerminatedAt: undefined,
          },
          {
            name: "worker",
            started: true,
            ready: true,
            restartCount: 2,
            startedAt: 5,
            lastTerminationReason: "OOMKilled",
            lastTerminatedAt: 4,
          },
        ],
      }),
    ]);
    expect(targets[0]).toMatchObject({
      container: "worker",
      port: 7070,
      image: "img:2",
      restartCount: 2,
      lastTerminationReason: "OOMKilled",
    });
  });

  it("says why an opted-in pod cannot be scraped", () => {
    const { targets, skipped } = discoverTargets(settings, [
      pod({
        name: "no-port",
        containers: [{ name: "app", image: "i", ports: [], memoryLimitBytes: undefined }],
      }),
      pod({ name: "metadata", podIP: "169.254.169.254" }),
      pod({
        name: "bad-path",
        annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/path": "/admin/heap" },
      }),
    ]);
    expect(targets).toEqual([]);
    expect(skipped).toEqual([
      { pod: "no-port", reason: 'no container port named "pprof"' },
      { pod: "metadata", reason: "pod IP refused: 169.254.169.254 is a cloud metadata address" },
      {
        pod: "bad-path",
        reason:
          "path /admin/heap is not under /debug/pprof/ (set spec.target.allowNonPprofPaths to allow it)",
      },
    ]);
  });

  it("names the Deployment behind a ReplicaSet", () => {
    const p = pod({
      name: "web-5d8f7-abcde",
      labels: { "pod-template-hash": "5d8f7" },
      owner: { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-5d8f7", uid: "rs" },
    });
    expect(workloadOf(p)).toEqual({ kind: "Deployment", name: "web" });
    expect(
      workloadOf(
        pod({ name: "db-0", owner: { apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "s" } }),
      ),
    ).toEqual({
      kind: "StatefulSet",
      name: "db",
    });
  });
});

describe("address policy", () => {
  it.each([
    ["10.0.0.1", undefined],
    ["127.0.0.1", undefined],
    ["fd00::1", undefined],
    ["169.254.169.254", "169.254.169.254 is a cloud metadata address"],
    ["169.254.1.1", "169.254.1.1 is link-local"],
    ["fe80::1", "fe80::1 is link-local"],
    ["fd00:ec2::254", "fd00:ec2::254 is a cloud metadata address"],
    ["example.com", '"example.com" is not an IP address'],
  ])("%s → %s", (ip, reason) => {
    expect(refusedAddress(ip)).toBe(reason);
  });
});
