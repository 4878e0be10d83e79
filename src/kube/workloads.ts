// The workload behind a pod, read fresh from the API just before a restart decision, and the
// rollout restart patch. Fail safe: anything that is not clearly a workload that recreates its
// pods is `None` (with the reason), and any read that fails is `Unknown` — both mean "do nothing".
import type { KubeClient } from "./client.ts";
import { isNotFound } from "./errors.ts";

export type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet";

/** The annotation `kubectl rollout restart` writes on the pod template. */
export const RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt";

export interface WorkloadStatus {
  kind: WorkloadKind;
  name: string;
  uid: string;
  /** Desired replicas (DaemonSet: desired scheduled pods). */
  replicas: number;
  /** Available replicas right now, as the workload's controller last reported them. */
  available: number;
  /** Replicas already on the current pod template. */
  updated: number;
  /** The workload's controller has seen its latest spec (observedGeneration ≥ generation). */
  observed: boolean;
  /** A paused Deployment: a rollout restart would not proceed. */
  paused: boolean;
  /** A new pod template replaces the pods (false for updateStrategy OnDelete, and bare ReplicaSets). */
  rollable: boolean;
  /** The template's restartedAt annotation, if any. */
  restartedAt: string | undefined;
}

export type WorkloadState =
  | WorkloadStatus
  /** Nothing would recreate the pod (bare pod, Job, an unknown controller). */
  | { kind: "None"; reason: string }
  /** The owner could not be read: an API error, a missing or replaced object. */
  | { kind: "Unknown"; reason: string };

export type WorkloadClient = Pick<KubeClient, "get">;

export interface PodOwner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

interface WorkloadObject {
  metadata?: { name?: string; uid?: string; generation?: number; ownerReferences?: OwnerReference[] };
  spec?: {
    replicas?: number;
    paused?: boolean;
    updateStrategy?: { type?: string };
    template?: { metadata?: { annotations?: Record<string, string> } };
  };
  status?: {
    observedGeneration?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    desiredNumberScheduled?: number;
    numberAvailable?: number;
    updatedNumberScheduled?: number;
  };
}

const PLURAL: Record<WorkloadKind, string> = {
  Deployment: "deployments",
  StatefulSet: "statefulsets",
  DaemonSet: "daemonsets",
  ReplicaSet: "replicasets",
};

export function isWorkloadKind(kind: string): kind is WorkloadKind {
  return Object.hasOwn(PLURAL, kind);
}

export function workloadPath(namespace: string, kind: WorkloadKind, name: string): string {
  return `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${PLURAL[kind]}/${encodeURIComponent(name)}`;
}

/**
 * The workload that would bring the pod back: a ReplicaSet's Deployment (or the ReplicaSet itself
 * when nothing controls it), a StatefulSet or a DaemonSet. UIDs are checked along the way, so an
 * owner deleted and created again under the same name is not mistaken for the pod's.
 */
export async function resolvePodWorkload(
  client: WorkloadClient,
  namespace: string,
  pod: string,
  owner: PodOwner | undefined,
  signal?: AbortSignal,
): Promise<WorkloadState> {
  if (owner === undefined) return { kind: "None", reason: `${pod} is a bare pod: nothing would recreate it` };
  const ownerName = `${owner.kind}/${owner.name}`;
  if (!owner.apiVersion.startsWith("apps/") || !isWorkloadKind(owner.kind) || owner.kind === "Deployment") {
    return {
      kind: "None",
      reason: `${pod} is owned by ${ownerName}, which LeakWatch does not restart (only pods of Deployments, ReplicaSets, StatefulSets and DaemonSets)`,
    };
  }
  const read = await readObject(client, namespace, owner.kind, owner.name, signal);
  if ("failed" in read) return { kind: "Unknown", reason: `${pod}'s owner ${read.failed}` };
  if (read.object.metadata?.uid !== owner.uid) {
    return { kind: "Unknown", reason: `${pod}'s owner ${ownerName} was replaced (its UID changed)` };
  }
  if (owner.kind !== "ReplicaSet") return statusOf(owner.kind, owner.name, read.object);
  const parent = read.object.metadata.ownerReferences?.find((o) => o.controller === true);
  if (parent === undefined) return statusOf("ReplicaSet", owner.name, read.object);
  if (parent.kind !== "Deployment" || parent.apiVersion?.startsWith("apps/") !== true) {
    // Another controller (an Argo Rollout, say) owns the ReplicaSet: it still recreates evicted
    // pods, but rolling it out is that controller's business.
    return { ...statusOf("ReplicaSet", owner.name, read.object), rollable: false };
  }
  const deployment = await readObject(client, namespace, "Deployment", parent.name ?? "", signal);
  if ("failed" in deployment) return { kind: "Unknown", reason: `${pod}'s Deployment ${deployment.failed}` };
  if (deployment.object.metadata?.uid !== parent.uid) {
    return {
      kind: "Unknown",
      reason: `Deployment/${parent.name ?? ""} was replaced (its UID differs from ReplicaSet ${owner.name}'s owner)`,
    };
  }
  return statusOf("Deployment", parent.name ?? "", deployment.object);
}

/** A workload by kind and name: its status, `Gone` (404), or `Unknown` (any other failure). */
export async function readWorkload(
  client: WorkloadClient,
  namespace: string,
  kind: WorkloadKind,
  name: string,
  signal?: AbortSignal,
): Promise<WorkloadStatus | { kind: "Gone" } | { kind: "Unknown"; reason: string }> {
  const read = await readObject(client, namespace, kind, name, signal);
  if ("gone" in read) return { kind: "Gone" };
  if ("failed" in read) return { kind: "Unknown", reason: read.failed };
  return statusOf(kind, name, read.object);
}

async function readObject(
  client: WorkloadClient,
  namespace: string,
  kind: WorkloadKind,
  name: string,
  signal: AbortSignal | undefined,
): Promise<{ object: WorkloadObject } | { failed: string; gone?: true }> {
  try {
    const object = await client.get<WorkloadObject>(workloadPath(namespace, kind, name), {
      ...(signal === undefined ? {} : { signal }),
      timeoutMs: 10_000,
    });
    return { object };
  } catch (err) {
    if (isNotFound(err)) return { failed: `${kind}/${name} was not found`, gone: true };
    // Any other failure (KubeError or not) is a doubt, and a doubt holds the restart.
    const message = err instanceof Error ? err.message : String(err);
    return { failed: `${kind}/${name} cannot be read: ${message}` };
  }
}

function statusOf(kind: WorkloadKind, name: string, o: WorkloadObject): WorkloadStatus {
  const spec = o.spec ?? {};
  const status = o.status ?? {};
  const observed = (status.observedGeneration ?? 0) >= (o.metadata?.generation ?? 0);
  const restartedAt = spec.template?.metadata?.annotations?.[RESTARTED_AT_ANNOTATION];
  const base = { kind, name, uid: o.metadata?.uid ?? "", observed, restartedAt, paused: false };
  switch (kind) {
    case "DaemonSet":
      return {
        ...base,
        replicas: status.desiredNumberScheduled ?? 0,
        available: status.numberAvailable ?? 0,
        updated: status.updatedNumberScheduled ?? 0,
        rollable: spec.updateStrategy?.type !== "OnDelete",
      };
    case "ReplicaSet": {
      const replicas = spec.replicas ?? 1;
      // A ReplicaSet has no rollout: every pod is on its one template.
      return {
        ...base,
        replicas,
        available: status.availableReplicas ?? 0,
        updated: replicas,
        rollable: false,
      };
    }
    case "StatefulSet":
    case "Deployment":
      return {
        ...base,
        replicas: spec.replicas ?? 1,
        available: status.availableReplicas ?? 0,
        updated: status.updatedReplicas ?? 0,
        paused: spec.paused === true,
        rollable: kind === "Deployment" || spec.updateStrategy?.type !== "OnDelete",
      };
  }
}

/** RFC 3339 to the second, in UTC: what `kubectl rollout restart` writes (it uses local time). */
export function restartedAtValue(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * `kubectl rollout restart`: a strategic merge patch of the pod template's restartedAt annotation,
 * so the workload's own controller replaces the pods by its rollout rules (new pods first).
 */
export async function rolloutRestart(
  client: Pick<KubeClient, "patch">,
  namespace: string,
  kind: Exclude<WorkloadKind, "ReplicaSet">,
  name: string,
  at: number,
  signal?: AbortSignal,
): Promise<string> {
  const value = restartedAtValue(at);
  const patch = { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: value } } } } };
  await client.patch(workloadPath(namespace, kind, name), patch, "strategic", {
    ...(signal === undefined ? {} : { signal }),
    timeoutMs: 10_000,
  });
  return value;
}
