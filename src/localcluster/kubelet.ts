// What a kubelet would do, for a control plane without one: give pods a Running status with a pod
// IP where a real process listens, restart counts, OOM kills. Tests and the demo share it.
import type { KubeClient } from "../kube/client.ts";

export interface PodSpecInput {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ports?: { name?: string; containerPort: number }[];
  containerName?: string;
  image?: string;
  memoryLimit?: string;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
}

export interface RunningStatusInput {
  podIP: string;
  container?: string;
  ready?: boolean;
  restartCount?: number;
  startedAt?: Date;
  lastTerminationReason?: string;
}

interface PodObject {
  metadata: { name: string; namespace: string; uid: string; resourceVersion?: string };
  spec: { containers: { name: string; image?: string }[] };
  status?: { startTime?: string };
}

function podPath(namespace: string, name?: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Creates the pod object (no nodeName: a pod bound to a node would never finish deleting). */
export async function createPod(client: KubeClient, input: PodSpecInput): Promise<PodObject> {
  const container = input.containerName ?? "app";
  return client.create<PodObject>(podPath(input.namespace), {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: input.name,
      labels: input.labels ?? {},
      annotations: input.annotations ?? {},
      ...(input.ownerReferences === undefined ? {} : { ownerReferences: input.ownerReferences }),
    },
    spec: {
      automountServiceAccountToken: false,
      containers: [
        {
          name: container,
          image: input.image ?? "leaky-app:local",
          ports: input.ports ?? [],
          ...(input.memoryLimit === undefined
            ? {}
            : { resources: { limits: { memory: input.memoryLimit } } }),
        },
      ],
    },
  });
}

/** Writes a Running (and by default Ready) status through the status subresource. */
export async function setPodRunning(
  client: KubeClient,
  namespace: string,
  name: string,
  input: RunningStatusInput,
): Promise<PodObject> {
  const pod = await client.get<PodObject>(podPath(namespace, name));
  const now = rfc3339(new Date());
  const started = rfc3339(input.startedAt ?? new Date());
  const ready = input.ready ?? true;
  const first = pod.spec.containers[0];
  const condition = (type: string, status: boolean): object => ({
    type,
    status: status ? "True" : "False",
    lastTransitionTime: now,
  });
  return client.patch<PodObject>(
    `${podPath(namespace, name)}/status`,
    {
      status: {
        phase: "Running",
        podIP: input.podIP,
        podIPs: [{ ip: input.podIP }],
        hostIP: "127.0.0.1",
        startTime: pod.status?.startTime ?? now,
        conditions: [
          condition("PodScheduled", true),
          condition("Initialized", true),
          condition("ContainersReady", ready),
          condition("Ready", ready),
        ],
        containerStatuses: [
          {
            name: input.container ?? first?.name ?? "app",
            image: first?.image ?? "",
            imageID: "",
            ready,
            started: true,
            restartCount: input.restartCount ?? 0,
            state: { running: { startedAt: started } },
            ...(input.lastTerminationReason === undefined
              ? {}
              : {
                  lastState: {
                    terminated: {
                      exitCode: 137,
                      reason: input.lastTerminationReason,
                      startedAt: rfc3339(new Date((input.startedAt ?? new Date()).getTime() - 60_000)),
                      finishedAt: started,
                    },
                  },
                }),
          },
        ],
      },
    },
    "merge",
  );
}

/** A fresh namespace with its default ServiceAccount (no controller-manager creates one). */
export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.create("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  await client.create(`/api/v1/namespaces/${name}/serviceaccounts`, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "default" },
  });
}
