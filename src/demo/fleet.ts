// The demo's "cluster workload": real leaky-app processes on loopback, and pods in the API server
// that point at them — with the demo playing kubelet (and, for --restart, the ReplicaSet
// controller: an evicted pod is replaced by a fresh one).
import { randomBytes } from "node:crypto";
import type { KubeClient } from "../kube/client.ts";
import { createPod, setPodRunning } from "../localcluster/kubelet.ts";
import type { ManagedProcess, ProcessGroup } from "../localcluster/processes.ts";

export const DEMO_NAMESPACE = "demo";
export const PART_OF = "leakwatch-demo";

export interface DemoApp {
  /** Deployment-like name; pods are `<name>-<hash>-<suffix>`. */
  name: string;
  behaviour: string;
  rate: string;
  memoryLimit: string;
}

export interface RunningReplica {
  pod: string;
  process: ManagedProcess;
}

interface Owner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
}

export class DemoFleet {
  private readonly client: KubeClient;
  private readonly group: ProcessGroup;
  private readonly leakyApp: string;
  private readonly replicas = new Map<string, RunningReplica>();
  private readonly owners = new Map<string, { owner: Owner; hash: string }>();
  private nextAddress = 2;

  constructor(client: KubeClient, group: ProcessGroup, leakyAppBinary: string) {
    this.client = client;
    this.group = group;
    this.leakyApp = leakyAppBinary;
  }

  /** A Deployment + ReplicaSet pair (objects only: no controller-manager runs), for owner references. */
  async createWorkload(app: DemoApp, replicas: number): Promise<void> {
    const ns = DEMO_NAMESPACE;
    const hash = randomBytes(3).toString("hex").slice(0, 5);
    const labels = { "app.kubernetes.io/name": app.name, "app.kubernetes.io/part-of": PART_OF };
    const deployment = await this.client.create<{ metadata: { uid: string; generation: number } }>(
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: app.name, labels },
        spec: {
          replicas,
          selector: { matchLabels: { "app.kubernetes.io/name": app.name } },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: "app", image: "leaky-app:local" }] },
          },
        },
      },
    );
    await this.client.patch(
      `/apis/apps/v1/namespaces/${ns}/deployments/${app.name}/status`,
      {
        status: {
          observedGeneration: deployment.metadata.generation,
          replicas,
          readyReplicas: replicas,
          availableReplicas: replicas,
          updatedReplicas: replicas,
        },
      },
      "merge",
    );
    const rs = await this.client.create<{ metadata: { uid: string } }>(
      `/apis/apps/v1/namespaces/${ns}/replicasets`,
      {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: `${app.name}-${hash}`,
          labels: { ...labels, "pod-template-hash": hash },
          ownerReferences: [
            {
              apiVersion: "apps/v1",
              kind: "Deployment",
              name: app.name,
              uid: deployment.metadata.uid,
              controller: true,
            },
          ],
        },
        spec: {
          replicas,
          selector: { matchLabels: { "app.kubernetes.io/name": app.name, "pod-template-hash": hash } },
          template: {
            metadata: { labels: { ...labels, "pod-template-hash": hash } },
            spec: { containers: [{ name: "app", image: "leaky-app:local" }] },
          },
        },
      },
    );
    this.owners.set(app.name, {
      owner: {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        name: `${app.name}-${hash}`,
        uid: rs.metadata.uid,
        controller: true,
      },
      hash,
    });
  }

  /** Starts a fresh process for `app` and a Running pod pointing at it. */
  async startReplica(app: DemoApp): Promise<RunningReplica> {
    const owned = this.owners.get(app.name);
    const suffix = randomBytes(3).toString("hex").slice(0, 5);
    const pod = owned === undefined ? `${app.name}-${suffix}` : `${app.name}-${owned.hash}-${suffix}`;
    // Every replica gets its own loopback address, as every pod gets its own IP.
    const address = `127.77.${Math.floor(this.nextAddress / 250)}.${(this.nextAddress % 250) + 1}`;
    this.nextAddress++;
    const proc = this.group.start(pod, this.leakyApp, [
      "-listen",
      `${address}:6060`,
      "-behaviour",
      app.behaviour,
      "-rate",
      app.rate,
      "-tick",
      "100ms",
    ]);
    await proc.waitForOutput(/listening on/, 30_000);
    await createPod(this.client, {
      namespace: DEMO_NAMESPACE,
      name: pod,
      labels: {
        "app.kubernetes.io/name": app.name,
        "app.kubernetes.io/part-of": PART_OF,
        ...(owned === undefined ? {} : { "pod-template-hash": owned.hash }),
      },
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": "6060" },
      ports: [{ name: "pprof", containerPort: 6060 }],
      memoryLimit: app.memoryLimit,
      ...(owned === undefined ? {} : { ownerReferences: [owned.owner] }),
    });
    await setPodRunning(this.client, DEMO_NAMESPACE, pod, { podIP: address });
    const replica = { pod, process: proc };
    this.replicas.set(pod, replica);
    return replica;
  }

  /** Pods the API server no longer has (evicted): stop their process and start a replacement. */
  async replaceDeleted(apps: readonly DemoApp[]): Promise<{ gone: string; replacement: string }[]> {
    const list = await this.client.get<{ items: { metadata: { name: string } }[] }>(
      `/api/v1/namespaces/${DEMO_NAMESPACE}/pods`,
    );
    const present = new Set(list.items.map((p) => p.metadata.name));
    const replaced: { gone: string; replacement: string }[] = [];
    for (const [pod, replica] of this.replicas) {
      if (present.has(pod)) continue;
      this.replicas.delete(pod);
      await replica.process.stop(2_000);
      const app = apps.find((a) => pod.startsWith(`${a.name}-`));
      if (app === undefined) continue;
      const next = await this.startReplica(app);
      replaced.push({ gone: pod, replacement: next.pod });
    }
    return replaced;
  }
}
