// Pods as the controller sees them: trimmed to the fields it reads before they are cached, so a
// namespace of large pod specs costs little memory.
import type { V1Pod } from "@kubernetes/client-node";

export type { V1Pod };
import { parseQuantity } from "../api/quantity.ts";

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export interface ContainerInfo {
  name: string;
  image: string;
  ports: readonly { name: string | undefined; containerPort: number }[];
  memoryLimitBytes: number | undefined;
}

export interface ContainerStatusInfo {
  name: string;
  started: boolean;
  ready: boolean;
  restartCount: number;
  /** When the running container started (ms), if running. */
  startedAt: number | undefined;
  lastTerminationReason: string | undefined;
  lastTerminatedAt: number | undefined;
}

export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  /** The controller owner (ReplicaSet, StatefulSet, DaemonSet, Job …), if any. */
  owner: OwnerRef | undefined;
  podIP: string | undefined;
  phase: string;
  deleting: boolean;
  ready: boolean;
  containers: readonly ContainerInfo[];
  containerStatuses: readonly ContainerStatusInfo[];
}

function time(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function memoryLimit(limits: Record<string, string> | undefined): number | undefined {
  const value = limits?.memory;
  if (value === undefined) return undefined;
  try {
    return parseQuantity(value);
  } catch {
    return undefined;
  }
}

/**
 * The annotation prefixes the controller reads (see api/annotations.ts: its own keys, Grafana
 * Alloy / Pyroscope's and Parca's). Other annotations are not cached: pods often carry large ones
 * (sidecar status, last-applied configuration) that would cost more per pod than the rest of it.
 */
const ANNOTATION_PREFIXES = ["leakwatch.dev/", "profiles.grafana.com/", "parca.dev/"] as const;

function ownAnnotations(all: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
  if (all === undefined) return {};
  const ours = (key: string): boolean => ANNOTATION_PREFIXES.some((p) => key.startsWith(p));
  const keys = Object.keys(all);
  if (keys.every(ours)) return all; // nothing to drop: keep the parsed object, no copy
  const kept: Record<string, string> = {};
  for (const key of keys) if (ours(key)) kept[key] = all[key] ?? "";
  return kept;
}

export function trimPod(pod: V1Pod): PodInfo {
  const meta = pod.metadata;
  const owner = meta?.ownerReferences?.find((o) => o.controller === true);
  return {
    namespace: meta?.namespace ?? "",
    name: meta?.name ?? "",
    uid: meta?.uid ?? "",
    resourceVersion: meta?.resourceVersion ?? "",
    labels: meta?.labels ?? {},
    annotations: ownAnnotations(meta?.annotations),
    owner:
      owner === undefined
        ? undefined
        : { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid },
    podIP: pod.status?.podIP,
    phase: pod.status?.phase ?? "Unknown",
    deleting: meta?.deletionTimestamp !== undefined,
    ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    containers: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? "",
      ports: (c.ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort })),
      memoryLimitBytes: memoryLimit(c.resources?.limits),
    })),
    containerStatuses: (pod.status?.containerStatuses ?? []).map((s) => ({
      name: s.name,
      started: s.started ?? s.state?.running !== undefined,
      ready: s.ready,
      restartCount: s.restartCount,
      startedAt: time(s.state?.running?.startedAt),
      lastTerminationReason: s.lastState?.terminated?.reason,
      lastTerminatedAt: time(s.lastState?.terminated?.finishedAt),
    })),
  };
}
