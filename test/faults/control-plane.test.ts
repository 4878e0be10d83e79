// The control plane itself fails, on a dedicated one (never the shared one): kube-apiserver down
// for 30 s, and etcd restarted. The operator runs as in production — leader election on — under a
// supervisor that restarts it when it exits, as the kubelet would (losing the lease makes it exit).
// Recovery: a pod created after the fault is watched and scraped, the old pod's verdict restored.
import { afterAll, beforeAll, describe, it } from "vitest";
import { CONFIG_DEFAULTS } from "../../src/controller/config.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { startControlPlane, type ControlPlane } from "../../src/localcluster/controlplane.ts";
import { startLeakyApp } from "../harness/goapps.ts";
import { fastSpec } from "../harness/leakwatch.ts";
import {
  clientFor,
  createLeakWatchWith,
  createWatchedPod,
  installCrd,
  newNamespace,
  statusOf,
} from "./harness/cluster.ts";
import { FaultTarget } from "./harness/fault-target.ts";
import { checkContinuity, persistedHistory } from "./harness/history.ts";
import { Supervisor, crashViolations, isLeader } from "./harness/operators.ts";
import { FaultRun, runNumbers } from "./harness/results.ts";
import { FLAT, waitFor } from "./harness/scenario.ts";

const API_DOWN_MS = 30_000;
/** Samples since the last save (30 s at test speed), and until the lease is given up (renew deadline). */
const PERSIST_BOUND_S = 30 + CONFIG_DEFAULTS.renewDeadlineMs / 1000 + 5;
/** API server ready, informers back (backoff ≤ 30 s), the lease retaken (≤ its duration). */
const RECOVER_BOUND_MS = 30_000 + CONFIG_DEFAULTS.leaseDurationMs + 15_000;

let cp: ControlPlane;
let client: KubeClient;

beforeAll(async () => {
  cp = await startControlPlane();
  await installCrd(cp);
  client = await clientFor(cp.kubeconfigPath);
});

afterAll(async () => {
  client.close();
  await cp.stop();
});

interface Setup {
  ns: string;
  owner: { namespace: string; name: string; uid: string };
  targets: FaultTarget[];
  pids: number[];
  supervisor: Supervisor;
}

async function setup(prefix: string): Promise<Setup> {
  const ns = await newNamespace(client, prefix);
  const pids: number[] = [];
  const app = await startLeakyApp({ ...FLAT, extraArgs: [...FLAT.extraArgs] });
  const target = await FaultTarget.start({ upstream: app, owners: () => pids });
  await createWatchedPod(client, ns, "steady", target);
  const lw = await createLeakWatchWith(client, ns, "lw", fastSpec());
  const supervisor = new Supervisor({
    kubeconfig: cp.kubeconfigPath,
    name: prefix,
    args: [
      "--status-min-interval=1",
      `--namespaces=${ns}`,
      `--leader-election-namespace=${ns}`,
      "--leader-election-id=leakwatch-faults",
    ],
  });
  const first = await supervisor.start();
  pids.push(first.process.pid);
  return {
    ns,
    owner: { namespace: ns, name: "lw", uid: lw.metadata.uid ?? "" },
    targets: [target],
    pids,
    supervisor,
  };
}

function trackPids(s: Setup): () => void {
  const timer = setInterval(() => {
    for (const op of s.supervisor.incarnations)
      if (!s.pids.includes(op.process.pid)) s.pids.push(op.process.pid);
  }, 50);
  return () => {
    clearInterval(timer);
  };
}

interface LeaseSpec {
  spec?: { holderIdentity?: string; renewTime?: string };
}

/** The faults' Lease is held by the incarnation named `name` and was renewed after `since`. */
async function renewedSince(ns: string, name: string, since: number): Promise<boolean> {
  try {
    const lease = await client.get<LeaseSpec>(
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/leakwatch-faults`,
    );
    const holder = lease.spec?.holderIdentity ?? "";
    const renewed = Date.parse(lease.spec?.renewTime ?? "");
    return holder.startsWith(`${name}_`) && renewed > since;
  } catch {
    return false; // the API server is still coming back
  }
}

/** Runs `fault` on a watched, leading, persisted setup; then checks recovery, history and crashes. */
async function underFault(r: FaultRun, prefix: string, fault: () => Promise<void>): Promise<void> {
  const s = await setup(prefix);
  const stopTracking = trackPids(s);
  try {
    const current = (): string => s.supervisor.current?.process.tail(20_000) ?? "";
    await waitFor(
      "leading, watching, history persisted",
      async () => {
        const op = s.supervisor.current;
        if (op === undefined || !(await isLeader(op))) return undefined;
        if ((await statusOf(client, s.ns, "lw")).watched !== 1) return undefined;
        const h = await persistedHistory(client, s.owner);
        return [...h.values()].some((d) => d.verdict !== "Collecting") ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
      current,
    );
    const faultAt = Date.now();
    await fault();
    const backAt = Date.now();
    // Nobody can have saved since the fault began: this is what the next leader restores.
    const before = await persistedHistory(client, s.owner);

    const app = await startLeakyApp({ ...FLAT, extraArgs: [...FLAT.extraArgs] });
    const late = await FaultTarget.start({ upstream: app, owners: () => s.pids });
    await createWatchedPod(client, s.ns, "late", late);
    await waitFor(
      "a pod created after the fault watched and scraped, the old pod scraped again, its verdict restored",
      async () => {
        // The operator that leads now has renewed its lease since the fault: one that could not is
        // about to give it up (and exit), and the next incarnation must be the one judged.
        const op = s.supervisor.current;
        if (op === undefined || !(await renewedSince(s.ns, op.process.name, backAt))) return undefined;
        const st = await statusOf(client, s.ns, "lw");
        const scraped = late.requests.some((q) => q.endedAt !== undefined);
        // The old pod's series goes on in the operator that leads now (it may be scheduled after the new pod).
        // Two scrapes answered since: a target's scrapes do not overlap, so the first one's sample has
        // been folded into the series (an answer alone may still be in decoding when the test stops it).
        const leader = op.process.pid;
        const resumed =
          (s.targets[0]?.requests.filter(
            (q) => q.pid === leader && q.endedAt !== undefined && q.endedAt > backAt,
          ).length ?? 0) >= 2;
        return st.watched === 2 && scraped && resumed && (st.healthy ?? 0) >= 1 ? true : undefined;
      },
      { timeoutMs: RECOVER_BOUND_MS + 60_000, intervalMs: 250 },
      current,
    );
    r.recovered(Date.now() - backAt, RECOVER_BOUND_MS);
    r.note(
      `fault lasted ${Math.round((backAt - faultAt) / 1000)} s; ${s.supervisor.incarnations.length} operator process(es) in all`,
    );
    if (s.supervisor.incarnations.length === 1) r.dataLost(0);
    for (const op of s.supervisor.incarnations) r.keepLog(op);
    // Samples are lost only with a process that died (lost its lease) before saving them.
    const dead = new Set(
      s.supervisor.incarnations.filter((op) => !op.process.running).map((op) => op.process.pid),
    );
    const lastBefore = new Map<string, number>();
    const done =
      s.targets[0]?.requests.filter(
        (q) => q.pid !== undefined && dead.has(q.pid) && q.endedAt !== undefined,
      ) ?? [];
    if (done.length > 0) lastBefore.set(`${s.ns}/steady/app`, Math.max(...done.map((q) => q.endedAt ?? 0)));
    await s.supervisor.stop(); // SIGTERM: saves state
    const after = await persistedHistory(client, s.owner);
    const continuity = checkContinuity(before, after, lastBefore, 60_000, PERSIST_BOUND_S, faultAt);
    r.violations(continuity.violations);
    r.dataLost(continuity.lostSeconds);
    const all = s.supervisor.incarnations;
    for (const [i, op] of all.entries()) {
      r.violations(await crashViolations(op, i === all.length - 1 ? "clean" : "lostLease"));
    }
  } finally {
    stopTracking();
    await s.supervisor.stop();
  }
}

describe("control plane faults", () => {
  for (const run of runNumbers()) {
    it(`kube-apiserver down for 30 s: run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, "kube-apiserver down 30 s", run);
      await underFault(r, `apiserver-${run}`, async () => {
        await cp.stopApiServer();
        await new Promise((res) => setTimeout(res, API_DOWN_MS)); // the fault's duration
        await cp.startApiServer();
      });
      r.assertClean();
    });

    it(`etcd restarted: run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, "etcd restarted", run);
      await underFault(r, `etcd-${run}`, async () => {
        await cp.stopEtcd();
        await cp.startEtcd();
      });
      r.assertClean();
    });
  }
});
