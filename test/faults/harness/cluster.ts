// The objects a fault test needs, on any control plane (the shared one, or a dedicated one that a
// test stops and starts): namespaces, opted-in Running pods pointing at real processes, and
// LeakWatches with their status.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { LeakWatch, LeakWatchSpec, LeakWatchStatus } from "../../../src/api/types.ts";
import { KubeClient } from "../../../src/kube/client.ts";
import { isNotFound } from "../../../src/kube/errors.ts";
import { REPO_ROOT } from "../../../src/localcluster/binaries.ts";
import type { ControlPlane } from "../../../src/localcluster/controlplane.ts";
import {
  createNamespace,
  createPod,
  setPodRunning,
  type PodSpecInput,
} from "../../../src/localcluster/kubelet.ts";
import { run } from "../../../src/localcluster/kubectl.ts";

export const LW_PATH = (ns: string): string => `/apis/leakwatch.dev/v1alpha1/namespaces/${ns}/leakwatches`;

export async function clientFor(kubeconfig: string): Promise<KubeClient> {
  return KubeClient.load({ kubeconfig, userAgent: "leakwatch-faults" });
}

export async function installCrd(cp: ControlPlane): Promise<void> {
  await run(cp, ["apply", "--server-side", "-f", join(REPO_ROOT, "crds")]);
  await run(cp, ["wait", "--for=condition=Established", "--timeout=60s", "crd/leakwatches.leakwatch.dev"]);
}

export async function newNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  await createNamespace(client, name);
  return name;
}

export interface Endpoint {
  host: string;
  port: number;
}

/** An opted-in pod, Running and Ready, whose pod IP and port are `endpoint`'s. */
export async function createWatchedPod(
  client: KubeClient,
  namespace: string,
  name: string,
  endpoint: Endpoint,
  extra: Partial<PodSpecInput> = {},
): Promise<string> {
  const pod = await createPod(client, {
    namespace,
    name,
    ...extra,
    annotations: {
      "leakwatch.dev/scrape": "true",
      "leakwatch.dev/port": String(endpoint.port),
      ...extra.annotations,
    },
  });
  await setPodRunning(client, namespace, name, { podIP: endpoint.host });
  return pod.metadata.uid;
}

export async function deletePod(client: KubeClient, namespace: string, name: string): Promise<void> {
  try {
    await client.delete(`/api/v1/namespaces/${namespace}/pods/${name}`, { gracePeriodSeconds: 0 });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export async function createLeakWatchWith(
  client: KubeClient,
  namespace: string,
  name: string,
  spec: LeakWatchSpec,
): Promise<LeakWatch> {
  return client.create<LeakWatch>(LW_PATH(namespace), {
    apiVersion: "leakwatch.dev/v1alpha1",
    kind: "LeakWatch",
    metadata: { name },
    spec,
  });
}

export async function leakWatchOf(client: KubeClient, namespace: string, name: string): Promise<LeakWatch> {
  return client.get<LeakWatch>(`${LW_PATH(namespace)}/${name}`);
}

export async function statusOf(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<LeakWatchStatus> {
  return (await leakWatchOf(client, namespace, name)).status ?? {};
}
