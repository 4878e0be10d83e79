// Helpers for tests against the real control plane, covering what it lacks without a kubelet:
// pods are created and then given a Running status by hand (with a loopback pod IP where a real Go
// process listens), namespaces are fresh per test, and the default ServiceAccount is made here.
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { inject } from "vitest";
import { KubeClient } from "../../src/kube/client.ts";
import {
  createNamespace,
  createPod,
  setPodRunning as setRunning,
  type PodSpecInput,
  type RunningStatusInput,
} from "../../src/localcluster/kubelet.ts";
import { run } from "../../src/localcluster/kubectl.ts";

export function controlPlane(): ReturnType<typeof inject<"controlPlane">> {
  return inject("controlPlane");
}

export function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(controlPlane().kubeconfigPath);
  return kc;
}

export function clients(kc = kubeConfig()): {
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  policy: k8s.PolicyV1Api;
  custom: k8s.CustomObjectsApi;
  rbac: k8s.RbacAuthorizationV1Api;
  events: k8s.EventsV1Api;
  coordination: k8s.CoordinationV1Api;
} {
  return {
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    policy: kc.makeApiClient(k8s.PolicyV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    rbac: kc.makeApiClient(k8s.RbacAuthorizationV1Api),
    events: kc.makeApiClient(k8s.EventsV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
  };
}

export async function kubectl(args: readonly string[], input?: string): Promise<string> {
  return run(controlPlane(), args, input === undefined ? {} : { input });
}

let sharedClient: Promise<KubeClient> | undefined;

/** Our own REST client on the admin kubeconfig (the one the product uses). */
export async function kubeClient(): Promise<KubeClient> {
  sharedClient ??= KubeClient.load({ kubeconfig: controlPlane().kubeconfigPath });
  return sharedClient;
}

/** A new namespace with its default ServiceAccount (no controller-manager makes one for us). */
export async function freshNamespace(prefix = "t"): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  await createNamespace(await kubeClient(), name);
  return name;
}

export interface RunningPodOptions extends PodSpecInput {
  podIP: string;
  ready?: boolean;
}

/** Creates a pod and marks it Running (and Ready), as a kubelet would, with the given pod IP. */
export async function createRunningPod(options: RunningPodOptions): Promise<k8s.V1Pod> {
  const client = await kubeClient();
  await createPod(client, options);
  return setPodRunning(options.namespace, options.name, options.podIP, { ready: options.ready ?? true });
}

/** Writes a Running status; `restartCount`/`lastTerminationReason` simulate container restarts and OOM kills. */
export async function setPodRunning(
  namespace: string,
  name: string,
  podIP: string,
  options: Omit<RunningStatusInput, "podIP"> = {},
): Promise<k8s.V1Pod> {
  await setRunning(await kubeClient(), namespace, name, { ...options, podIP });
  return clients().core.readNamespacedPod({ namespace, name });
}

/** Polls `probe` until it returns a value other than undefined; the last error is kept for the message. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 60_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? "" : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
