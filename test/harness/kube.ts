// Helpers for tests against the real control plane, covering what it lacks without a kubelet:
// pods are created and then given a Running status by hand (with a loopback pod IP where a real Go
// process listens), namespaces are fresh per test, and the default ServiceAccount is made here.
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { inject } from "vitest";
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

/** A new namespace with its default ServiceAccount (no controller-manager makes one for us). */
export async function freshNamespace(prefix = "t"): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  const { core } = clients();
  await core.createNamespace({ body: { metadata: { name } } });
  await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: "default" } } });
  return name;
}

export interface RunningPodOptions {
  namespace: string;
  name: string;
  podIP: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ports?: { name?: string; containerPort: number }[];
  containerName?: string;
  memoryLimit?: string;
  ownerReferences?: k8s.V1OwnerReference[];
  image?: string;
  ready?: boolean;
}

/** Creates a pod and marks it Running (and Ready), as a kubelet would, with the given pod IP. */
export async function createRunningPod(options: RunningPodOptions): Promise<k8s.V1Pod> {
  const { core } = clients();
  const container = options.containerName ?? "app";
  await core.createNamespacedPod({
    namespace: options.namespace,
    body: {
      metadata: {
        name: options.name,
        labels: options.labels ?? {},
        annotations: options.annotations ?? {},
        ...(options.ownerReferences === undefined ? {} : { ownerReferences: options.ownerReferences }),
      },
      spec: {
        automountServiceAccountToken: false,
        containers: [
          {
            name: container,
            image: options.image ?? "example.invalid/leaky-app:test",
            ports: options.ports ?? [],
            ...(options.memoryLimit === undefined
              ? {}
              : { resources: { limits: { memory: options.memoryLimit } } }),
          },
        ],
      },
    },
  });
  return setPodRunning(options.namespace, options.name, options.podIP, {
    container,
    ready: options.ready ?? true,
  });
}

/** Writes a Running status; `restartCount`/`lastTermination` simulate container restarts and OOM kills. */
export async function setPodRunning(
  namespace: string,
  name: string,
  podIP: string,
  options: {
    container?: string;
    ready?: boolean;
    restartCount?: number;
    startedAt?: Date;
    lastTerminationReason?: string;
  } = {},
): Promise<k8s.V1Pod> {
  const { core } = clients();
  const now = new Date();
  const started = options.startedAt ?? now;
  const ready = options.ready ?? true;
  const pod = await core.readNamespacedPod({ namespace, name });
  const body: k8s.V1Pod = {
    ...pod,
    status: {
      phase: "Running",
      podIP,
      podIPs: [{ ip: podIP }],
      hostIP: "127.0.0.1",
      startTime: pod.status?.startTime ?? now,
      conditions: [
        { type: "PodScheduled", status: "True", lastTransitionTime: now },
        { type: "Initialized", status: "True", lastTransitionTime: now },
        { type: "ContainersReady", status: ready ? "True" : "False", lastTransitionTime: now },
        { type: "Ready", status: ready ? "True" : "False", lastTransitionTime: now },
      ],
      containerStatuses: [
        {
          name: options.container ?? pod.spec?.containers[0]?.name ?? "app",
          image: pod.spec?.containers[0]?.image ?? "",
          imageID: "",
          ready,
          started: true,
          restartCount: options.restartCount ?? 0,
          state: { running: { startedAt: started } },
          ...(options.lastTerminationReason === undefined
            ? {}
            : {
                lastState: {
                  terminated: {
                    exitCode: 137,
                    reason: options.lastTerminationReason,
                    startedAt: new Date(started.getTime() - 60_000),
                    finishedAt: started,
                  },
                },
              }),
        },
      ],
    },
  };
  return core.replaceNamespacedPodStatus({ namespace, name, body });
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
