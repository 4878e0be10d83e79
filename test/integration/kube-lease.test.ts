// Leader election on a real Lease: one leader out of two, a fast hand-over on release, and a
// leader cut off from the API server (its connection stalled by a TCP proxy) that stops leading
// before the other replica takes over.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "../../src/kube/client.ts";
import { LeaderElector, leaseIdentity, type LeaderElectorOptions } from "../../src/kube/lease.ts";
import type { LeaseSpec } from "../../src/kube/lease-record.ts";
import { controlPlane, eventually, freshNamespace } from "../harness/kube.ts";
import { TcpProxy, kubeconfigVia } from "../harness/tcp-proxy.ts";

let admin: KubeClient;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  admin = await KubeClient.load({ kubeconfig: controlPlane().kubeconfigPath });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  admin.close();
});

interface Replica {
  elector: LeaderElector;
  id: string;
  signal: () => AbortSignal | undefined;
  /** Every leader this replica was told about, in order. */
  newLeaders: string[];
}

/** Replicas of one Lease, with a shared timeline of who started and stopped leading, and when. */
function election(namespace: string, timings: Partial<LeaderElectorOptions> = {}) {
  const timeline: { at: number; event: string }[] = [];
  const replica = (name: string, client: KubeClient): Replica => {
    const id = leaseIdentity(name);
    let leadingSignal: AbortSignal | undefined;
    const newLeaders: string[] = [];
    const elector = new LeaderElector({
      client,
      namespace,
      name: "leakwatch-controller",
      identity: id,
      ...timings,
      onStartedLeading: (signal) => {
        leadingSignal = signal;
        timeline.push({ at: Date.now(), event: `${name} started` });
      },
      onStoppedLeading: () => void timeline.push({ at: Date.now(), event: `${name} stopped` }),
      onNewLeader: (leader) => void newLeaders.push(leader),
    });
    cleanups.push(() => elector.stop());
    return { elector, id, signal: () => leadingSignal, newLeaders };
  };
  const when = (event: string): number | undefined => timeline.find((e) => e.event === event)?.at;
  const holder = async (): Promise<string | null | undefined> => {
    const lease = await admin.get<{ spec?: LeaseSpec }>(
      `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/leakwatch-controller`,
    );
    return lease.spec?.holderIdentity;
  };
  return { replica, timeline, when, holder };
}

describe("LeaderElector against the API server", () => {
  it("elects exactly one of two replicas and records it in the Lease", async () => {
    const ns = await freshNamespace("lease");
    const { replica, holder } = election(ns);
    const a = replica("a", admin);
    const b = replica("b", admin);
    a.elector.start();
    b.elector.start();
    const leader = await eventually("a leader", () =>
      a.elector.isLeader ? a : b.elector.isLeader ? b : undefined,
    );
    const other = leader === a ? b : a;
    expect(await holder()).toBe(leader.id);
    await eventually("the other replica to learn the leader", () => other.elector.leader);
    // Over several retry periods, leadership stays put.
    for (let i = 0; i < 5; i++) {
      expect([a.elector.isLeader, b.elector.isLeader].filter(Boolean)).toHaveLength(1);
      expect(leader.elector.isLeader).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(other.newLeaders).toEqual([leader.id]);
    expect(leader.newLeaders).toEqual([leader.id]);
    await leader.elector.release();
    await other.elector.release();
  });

  it("release() hands over at the other replica's next try, far sooner than the lease duration", async () => {
    const ns = await freshNamespace("lease");
    const { replica, timeline, when, holder } = election(ns); // defaults: 15 s lease, 10 s renew, 2 s retry
    const a = replica("a", admin);
    a.elector.start();
    await eventually("a to lead", () => (a.elector.isLeader ? true : undefined));
    const b = replica("b", admin);
    b.elector.start();
    await eventually("b to see a", () => b.elector.leader);

    const releasedAt = Date.now();
    await a.elector.release();
    expect(a.signal()?.aborted).toBe(true);
    await eventually("b to lead", () => (b.elector.isLeader ? true : undefined), { timeoutMs: 10_000 });
    const handoverMs = Date.now() - releasedAt;
    expect(handoverMs).toBeLessThan(5_000); // ≤ one retry period (2 s, +20 % jitter) plus latency
    expect(await holder()).toBe(b.id);
    expect(timeline.map((e) => e.event)).toEqual(["a started", "a stopped", "b started"]);
    expect(when("a stopped")).toBeLessThanOrEqual(when("b started") ?? 0);
    await b.elector.release();
  });

  it("a leader cut off from the API server stops leading before the other replica takes over", async () => {
    const ns = await freshNamespace("lease");
    const timings = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };
    const { replica, timeline, when, holder } = election(ns, timings);
    const cp = controlPlane();
    const proxy = TcpProxy.to(cp.server);
    await proxy.start();
    const viaProxy = await KubeClient.load({
      kubeconfig: await kubeconfigVia(proxy, cp.kubeconfigPath, cp.dir),
    });
    cleanups.push(async () => {
      viaProxy.close();
      await proxy.stop();
    });
    const a = replica("a", viaProxy);
    a.elector.start();
    await eventually("a to lead", () => (a.elector.isLeader ? true : undefined));
    const b = replica("b", admin);
    b.elector.start();
    await eventually("b to see a", () => b.elector.leader);

    proxy.stall(); // a's requests hang: no error, no answer
    const stalledAt = Date.now();
    await eventually("b to take over", () => (b.elector.isLeader ? true : undefined), { timeoutMs: 15_000 });
    const stoppedAt = when("a stopped");
    const startedAt = when("b started");
    if (stoppedAt === undefined || startedAt === undefined) throw new Error(JSON.stringify(timeline));
    expect(a.signal()?.aborted).toBe(true);
    expect(stoppedAt - stalledAt).toBeLessThanOrEqual(timings.renewDeadlineMs + 500);
    // The margin is leaseDuration − renewDeadline (1 s here), less b's polling delay.
    expect(startedAt).toBeGreaterThan(stoppedAt);
    expect(await holder()).toBe(b.id);

    proxy.resume();
    await eventually("a to stand by behind b", () => (a.elector.leader === b.id ? true : undefined), {
      timeoutMs: 10_000,
    });
    expect(a.elector.isLeader).toBe(false);
    expect(timeline.map((e) => e.event)).toEqual(["a started", "a stopped", "b started"]);
    await b.elector.release();
    await a.elector.stop();
  });
});
