// Building blocks the fault tests share on the shared control plane: a namespace with opted-in pods
// behind fault targets (so every scrape's time and scraper are known), a LeakWatch, the operator
// arguments, and the "last sample before the fault" each target saw.
import type { LeakWatchSpec, LeakWatchStatus } from "../../../src/api/types.ts";
import type { KubeClient } from "../../../src/kube/client.ts";
import { startLeakyApp, type LeakyApp } from "../../harness/goapps.ts";
import { eventually, freshNamespace, kubeClient } from "../../harness/kube.ts";
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
  extraArgs?: string[];
}

/** A healthy service whose heap is flat at once (a 4 MiB cache filled in a second). */
export const FLAT = { behaviour: "warmup", rate: "4MiB", extraArgs: ["-plateau", "4MiB"] } as const;

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
      const app = await startLeakyApp({
        behaviour: p.behaviour,
        ...(p.rate === undefined ? {} : { rate: p.rate }),
        ...(p.extraArgs === undefined ? {} : { extraArgs: p.extraArgs }),
      });
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

/** The fewest whole scrapes (heap and goroutine profile answered) `pid` made of any target. */
export function sampledBy(s: Scenario, pid: number): number {
  let fewest = Number.POSITIVE_INFINITY;
  for (const target of s.targets.values()) {
    const done = target.requests.filter((r) => r.pid === pid && r.endedAt !== undefined);
    const heap = done.filter((r) => r.path.startsWith("/debug/pprof/heap")).length;
    const goroutine = done.filter((r) => r.path.startsWith("/debug/pprof/goroutine")).length;
    fewest = Math.min(fewest, heap, goroutine);
  }
  return fewest === Number.POSITIVE_INFINITY ? 0 : fewest;
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

/** `eventually`, and on timeout the error carries `diagnostics()` (status, logs) for the reader. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs?: number },
  diagnostics: () => Promise<string> | string,
): Promise<T> {
  try {
    return await eventually(what, probe, options);
  } catch (err) {
    let extra: string;
    try {
      extra = await diagnostics();
    } catch (e) {
      extra = `(diagnostics failed: ${String(e)})`;
    }
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${extra}`, { cause: err });
  }
}

/** The LeakWatch's status and the last log lines of an operator, for a failure message. */
export async function describeState(s: Scenario, logs: () => string): Promise<string> {
  const lw = await s.client.get<{ status?: unknown }>(
    `/apis/leakwatch.dev/v1alpha1/namespaces/${s.namespace}/leakwatches/lw`,
  );
  const tail = logs().split("\n").slice(-40).join("\n");
  return `status: ${JSON.stringify(lw.status, null, 1).slice(0, 4000)}\nlog tail:\n${tail}`;
}

/**
 * Polls the LeakWatch's status every 250 ms and keeps each change of its counts and of these pods'
 * rows, with the time since `t0`: the story of a recovery, for notes and failure messages.
 */
export function trackStatus(
  s: Scenario,
  t0: number,
  pods: readonly string[],
): { lines: string[]; seen: Map<string, Set<string>>; stop(): void } {
  const lines: string[] = [];
  /** Every row verdict each pod showed in a poll; "-" when it had no row (Healthy, or not yet watched). */
  const seen = new Map<string, Set<string>>(pods.map((p) => [p, new Set<string>()]));
  let last = "";
  let stopped = false;
  const poll = async (): Promise<void> => {
    while (!stopped) {
      try {
        const st =
          (
            await s.client.get<{ status?: LeakWatchStatus }>(
              `/apis/leakwatch.dev/v1alpha1/namespaces/${s.namespace}/leakwatches/lw`,
            )
          ).status ?? {};
        const verdicts = pods.map((p) => st.pods?.find((r) => r.pod === p)?.verdict ?? "-");
        pods.forEach((p, i) => seen.get(p)?.add(verdicts[i] ?? "-"));
        const rows = pods.map((p, i) => `${p}=${verdicts[i] ?? "-"}`).join(" ");
        const text = `watched=${st.watched ?? 0} collecting=${st.collecting ?? 0} healthy=${st.healthy ?? 0} suspected=${st.suspected ?? 0} leaking=${st.leaking ?? 0} failing=${st.failing ?? 0} captures=${st.captures?.length ?? 0} ${rows}`;
        if (text !== last) {
          lines.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${text}`);
          last = text;
        }
      } catch {
        // the API server may be the fault
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  void poll();
  return {
    lines,
    seen,
    stop: () => {
      stopped = true;
    },
  };
}
