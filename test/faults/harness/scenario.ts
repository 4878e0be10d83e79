// Building blocks the fault tests share on the shared control plane: a namespace with opted-in pods
// behind fault targets (so every scrape's time and scraper are known), a LeakWatch, the operator
// arguments, and the "last sample before the fault" each target saw.
import type { LeakWatchSpec } from "../../../src/api/types.ts";
import type { KubeClient } from "../../../src/kube/client.ts";
import { startLeakyApp, type LeakyApp } from "../../harness/goapps.ts";
import { freshNamespace, kubeClient } from "../../harness/kube.ts";
import { createLeakWatch } from "../../harness/leakwatch.ts";
import { createWatchedPod } from "./cluster.ts";
import { FaultTarget, type TargetFault } from "./fault-target.ts";

export interface PodPlan {
  name: string;
  behaviour: string;
  rate?: string;
  fault?: TargetFault;
  slowMs?: number;
  memoryLimit?: string;
}

export interface Scenario {
  client: KubeClient;
  namespace: string;
  owner: { namespace: string; name: string; uid: string };
  apps: Map<string, LeakyApp>;
  targets: Map<string, FaultTarget>;
  /** Operator pids requests are attributed to; push each operator's pid when it starts. */
  pids: number[];
  args: string[];
  key(pod: string): string;
}

export async function scenario(
  prefix: string,
  pods: readonly PodPlan[],
  spec: LeakWatchSpec,
  extraArgs: readonly string[] = ["--leader-elect=false"],
): Promise<Scenario> {
  const client = await kubeClient();
  const namespace = await freshNamespace(prefix);
  const pids: number[] = [];
  const apps = new Map<string, LeakyApp>();
  const targets = new Map<string, FaultTarget>();
  await Promise.all(
    pods.map(async (p) => {
      const app = await startLeakyApp({ behaviour: p.behaviour, ...(p.rate === undefined ? {} : { rate: p.rate }) });
      const target = await FaultTarget.start({
        upstream: app,
        fault: p.fault ?? "none",
        ...(p.slowMs === undefined ? {} : { slowMs: p.slowMs }),
        owners: () => pids,
      });
      apps.set(p.name, app);
      targets.set(p.name, target);
      await createWatchedPod(client, namespace, p.name, target, {
        ...(p.memoryLimit === undefined ? {} : { memoryLimit: p.memoryLimit }),
      });
    }),
  );
  const lw = await createLeakWatch(namespace, "lw", spec);
  return {
    client,
    namespace,
    owner: { namespace, name: "lw", uid: lw.metadata.uid ?? "" },
    apps,
    targets,
    pids,
    args: ["--status-min-interval=1", `--namespaces=${namespace}`, ...extraArgs],
    key: (pod) => `${namespace}/${pod}/app`,
  };
}

/** Per target key: when `pid` last finished a request to it, before `before`. */
export function lastSamples(s: Scenario, pid: number, before: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [pod, target] of s.targets) {
    const ends = target.requests
      .filter((r) => r.pid === pid && r.endedAt !== undefined && r.endedAt <= before)
      .map((r) => r.endedAt ?? 0);
    if (ends.length > 0) out.set(s.key(pod), Math.max(...ends));
  }
  return out;
}

/** Resolves with `promise`, or rejects after `ms` naming `what`. */
export async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
