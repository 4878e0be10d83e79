// The fleet as the API server sees it: one namespace, one LeakWatch (interval and window at their
// defaults), and a pod per target whose status says Running with the target's loopback address as
// pod IP — written the way a kubelet would, since the test control plane has none.
import { join } from "node:path";
import type { IncomingMessage } from "node:http";
import { KubeClient } from "../../src/kube/client.ts";
import { eachLimited } from "../../src/kube/concurrency.ts";
import { isConflict } from "../../src/kube/errors.ts";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";
import type { ControlPlane } from "../../src/localcluster/controlplane.ts";
import { run } from "../../src/localcluster/kubectl.ts";
import { targetAddress } from "./fleet.ts";

export const NAMESPACE = "scale";
export const LEAKWATCH = "fleet";
/** Pods per simulated Deployment (their ReplicaSet is the owner; no controller runs it). */
const PODS_PER_WORKLOAD = 100;
const CONCURRENCY = 32;

export function podName(i: number): string {
  return `fleet-${String(i).padStart(5, "0")}`;
}

export async function installCrd(cp: ControlPlane): Promise<void> {
  await run(cp, ["apply", "--server-side", "-f", join(REPO_ROOT, "crds")]);
  await run(cp, ["wait", "--for=condition=Established", "--timeout=60s", "crd/leakwatches.leakwatch.dev"]);
}

export async function createNamespaceAndLeakWatch(client: KubeClient): Promise<void> {
  await client.create("/api/v1/namespaces", { metadata: { name: NAMESPACE } });
  // No controller-manager makes the default ServiceAccount, and pod admission wants it.
  await client.create(`/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, { metadata: { name: "default" } });
  await client.create(`/apis/leakwatch.dev/v1alpha1/namespaces/${NAMESPACE}/leakwatches`, {
    apiVersion: "leakwatch.dev/v1alpha1",
    kind: "LeakWatch",
    metadata: { name: LEAKWATCH },
    spec: { selector: { matchLabels: { app: "fleet" } } },
  });
}

/** 20 images over 50 workloads: a rollup per image has something to roll up. */
function imageOf(i: number): string {
  const workload = Math.floor(i / PODS_PER_WORKLOAD);
  return `registry.example.invalid/svc-${String(workload % 20).padStart(2, "0")}:v1`;
}

export function podBody(i: number, port: number): unknown {
  const workload = Math.floor(i / PODS_PER_WORKLOAD);
  const hash = `${(workload * 2654435761) % 0xfffff}`.padStart(7, "0").slice(-7);
  const rs = `svc-${String(workload).padStart(3, "0")}-${hash}`;
  return {
    metadata: {
      name: podName(i),
      labels: { app: "fleet", "pod-template-hash": hash },
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(port) },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: rs,
          uid: `00000000-0000-4000-8000-${String(workload).padStart(12, "0")}`,
          controller: true,
        },
      ],
    },
    spec: {
      automountServiceAccountToken: false,
      containers: [
        {
          name: "app",
          image: imageOf(i),
          ports: [{ name: "http", containerPort: port }],
          resources: { limits: { memory: "512Mi" } },
        },
      ],
    },
  };
}

export function runningStatus(i: number, started: string): unknown {
  const ip = targetAddress(i);
  return {
    status: {
      phase: "Running",
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: "127.0.0.1",
      startTime: started,
      conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({
        type,
        status: "True",
        lastTransitionTime: started,
      })),
      containerStatuses: [
        {
          name: "app",
          image: imageOf(i),
          imageID: "",
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: started } },
        },
      ],
    },
  };
}

export interface PodRecord {
  uid: string;
  /** The container's start time as the API stores it (whole seconds), in ms. */
  startedAt: number;
}

/**
 * Creates pods `from`..`to`-1 and marks them Running since `startedAt` (what a kubelet would
 * do); returns what the state store needs to know about each.
 */
export async function createPods(
  client: KubeClient,
  from: number,
  to: number,
  port: number,
  startedAt: Date,
  onProgress: (done: number) => void = () => undefined,
): Promise<PodRecord[]> {
  const seconds = Math.floor(startedAt.getTime() / 1000) * 1000;
  const started = new Date(seconds).toISOString().replace(/\.\d+Z$/, "Z");
  const indices = Array.from({ length: to - from }, (_, k) => from + k);
  const records: PodRecord[] = [];
  let done = 0;
  await eachLimited(indices, CONCURRENCY, async (i) => {
    const base = `/api/v1/namespaces/${NAMESPACE}/pods`;
    let pod: { metadata?: { uid?: string } };
    try {
      pod = await client.create(base, podBody(i, port));
    } catch (err) {
      if (!isConflict(err)) throw err; // 409 AlreadyExists: a retry of ours got there first
      pod = await client.get(`${base}/${podName(i)}`);
    }
    await client.patch(`${base}/${podName(i)}/status`, runningStatus(i, started), "merge");
    records[i - from] = { uid: pod.metadata?.uid ?? "", startedAt: seconds };
    if (++done % 500 === 0) onProgress(done);
  });
  return records;
}

export async function openClient(cp: ControlPlane): Promise<KubeClient> {
  return KubeClient.load({ kubeconfig: cp.kubeconfigPath, userAgent: "leakwatch-bench-scale" });
}

/** The API server's own /metrics, as text. */
export async function apiServerMetrics(client: KubeClient): Promise<string> {
  const res: IncomingMessage = await client.stream("/metrics");
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
