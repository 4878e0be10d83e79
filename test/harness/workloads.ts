// Workloads written by hand for the shared control plane, which runs no controller-manager: a
// Deployment, its ReplicaSet (owned by it, named with the pod-template-hash) and its pods (owned by
// the ReplicaSet, Running and Ready, each pointing at a real leaky-app), with the statuses their
// controllers would write. Nothing recreates an evicted pod; the tests only need an owner that would.
import type { KubeClient } from "../../src/kube/client.ts";
import { isNotFound } from "../../src/kube/errors.ts";
import { clients, createRunningPod, kubeClient } from "./kube.ts";
import type { LeakyApp } from "./goapps.ts";

export interface HandWorkload {
  deployment: string;
  replicaSet: string;
  pods: string[];
}

interface Meta {
  metadata: { uid: string; generation?: number };
}

const HASH = "5d8f7c9b4";

/** A Deployment → ReplicaSet → pods, one pod per app; `leakwatch.dev/*` annotations per pod. */
export async function createHandWorkload(
  namespace: string,
  name: string,
  apps: readonly { app: LeakyApp; annotations?: Record<string, string> }[],
): Promise<HandWorkload> {
  const client = await kubeClient();
  const replicas = apps.length;
  const labels = { app: name, "pod-template-hash": HASH };
  const template = {
    metadata: { labels },
    spec: { containers: [{ name: "app", image: "leaky-app:local" }] },
  };
  const apps1 = `/apis/apps/v1/namespaces/${namespace}`;
  const deployment = await client.create<Meta>(`${apps1}/deployments`, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { ...template, metadata: { labels: { app: name } } },
    },
  });
  const rsName = `${name}-${HASH}`;
  const rs = await client.create<Meta>(`${apps1}/replicasets`, {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: rsName,
      labels,
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "Deployment", name, uid: deployment.metadata.uid, controller: true },
      ],
    },
    spec: { replicas, selector: { matchLabels: labels }, template },
  });
  await writeStatus(client, `${apps1}/deployments/${name}`, deployment.metadata.generation ?? 1, {
    replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    updatedReplicas: replicas,
  });
  await writeStatus(client, `${apps1}/replicasets/${rsName}`, rs.metadata.generation ?? 1, {
    replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    fullyLabeledReplicas: replicas,
  });
  const pods: string[] = [];
  for (const [i, { app, annotations }] of apps.entries()) {
    const pod = `${rsName}-p${i}`;
    await createRunningPod({
      namespace,
      name: pod,
      podIP: app.host,
      labels,
      annotations: {
        "leakwatch.dev/scrape": "true",
        "leakwatch.dev/port": String(app.port),
        ...annotations,
      },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: rsName, uid: rs.metadata.uid, controller: true },
      ],
    });
    pods.push(pod);
  }
  return { deployment: name, replicaSet: rsName, pods };
}

async function writeStatus(
  client: KubeClient,
  path: string,
  generation: number,
  status: Record<string, number>,
): Promise<void> {
  await client.patch(`${path}/status`, { status: { observedGeneration: generation, ...status } }, "merge");
}

/** The part of a PodDisruptionBudget's status the disruption controller would write. */
interface BudgetStatus {
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
}

/** A PodDisruptionBudget with the status the disruption controller would write (it does not run here). */
export async function createBudget(
  namespace: string,
  name: string,
  app: string,
  status: BudgetStatus,
): Promise<void> {
  const client = await kubeClient();
  const path = `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets`;
  const pdb = await client.create<Meta>(path, {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name },
    spec: { minAvailable: status.desiredHealthy, selector: { matchLabels: { app } } },
  });
  await setBudgetStatus(namespace, name, pdb.metadata.generation ?? 1, status);
}

export async function setBudgetStatus(
  namespace: string,
  name: string,
  generation: number,
  status: BudgetStatus,
): Promise<void> {
  const client = await kubeClient();
  await client.patch(
    `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/${name}/status`,
    { status: { observedGeneration: generation, ...status } },
    "merge",
  );
}

/** Events (events.k8s.io) in the namespace with this reason. */
export async function eventsWith(
  namespace: string,
  reason: string,
): Promise<
  { type?: string; note?: string; regarding?: { kind?: string; name?: string }; reportingInstance?: string }[]
> {
  const list = await clients().events.listNamespacedEvent({ namespace });
  return list.items.filter((e) => e.reason === reason);
}

/** The pod exists and is not being deleted. */
export async function podExists(namespace: string, name: string): Promise<boolean> {
  try {
    const pod = await (
      await kubeClient()
    ).get<{ metadata: { deletionTimestamp?: string } }>(`/api/v1/namespaces/${namespace}/pods/${name}`);
    return pod.metadata.deletionTimestamp === undefined;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
