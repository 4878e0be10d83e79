// Target discovery: which containers of which pods a LeakWatch scrapes, and where. Pure: the
// reconcile loop feeds it the LeakWatch's settings and the cached pods of its namespace.
import { podEndpoint, podOptIn, restartOptedOut, snoozedUntil } from "../api/annotations.ts";
import type { WatchSettings } from "../api/defaults.ts";
import type { ContainerInfo, OwnerRef, PodInfo } from "../kube/pods.ts";
import { isPprofPath, refusedAddress } from "./address.ts";
import { matchesSelector } from "./selector.ts";

export interface Workload {
  kind: string;
  name: string;
}

export interface Target {
  /** namespace/pod/container: the identity of a series. */
  key: string;
  namespace: string;
  pod: string;
  podUID: string;
  container: string;
  image: string;
  owner: OwnerRef | undefined;
  /** The workload a person would name: the Deployment behind a ReplicaSet, a StatefulSet, … */
  workload: Workload | undefined;
  address: string;
  port: number;
  scheme: "http" | "https";
  heapPath: string;
  goroutinePath: string;
  goroutineLeakPath: string;
  goroutinePort: number;
  memoryLimitBytes: number | undefined;
  restartCount: number;
  startedAt: number | undefined;
  lastTerminationReason: string | undefined;
  ready: boolean;
  restartOptOut: boolean;
  snoozedUntil: number | undefined;
  /** Bad annotation values that were ignored, for status. */
  problems: readonly string[];
}

export interface SkippedPod {
  pod: string;
  reason: string;
}

export interface Discovery {
  targets: Target[];
  /** Opted-in pods that cannot be scraped, and why (pods that did not opt in are not listed). */
  skipped: SkippedPod[];
}

export function discoverTargets(settings: WatchSettings, pods: readonly PodInfo[]): Discovery {
  const targets: Target[] = [];
  const skipped: SkippedPod[] = [];
  for (const pod of pods) {
    if (!matchesSelector(pod.labels, settings.selector)) continue;
    if (!podOptIn(pod.annotations).optedIn) continue;
    const result = podTarget(settings, pod);
    if (typeof result === "string") {
      // Pods that are merely not running yet are not a problem worth reporting.
      if (result !== NOT_RUNNING) skipped.push({ pod: pod.name, reason: result });
    } else {
      targets.push(result);
    }
  }
  return { targets, skipped };
}

const NOT_RUNNING = "not running";

function podTarget(settings: WatchSettings, pod: PodInfo): Target | string {
  if (pod.deleting || pod.phase !== "Running") return NOT_RUNNING;
  const { endpoint, problems } = podEndpoint(pod.annotations, settings.target);
  const container = chooseContainer(pod, endpoint.container, endpoint.port);
  if (container === undefined) {
    return endpoint.container === undefined
      ? "the pod has no containers"
      : `no container named "${endpoint.container}"`;
  }
  const status = pod.containerStatuses.find((s) => s.name === container.name);
  if (status?.started !== true) return NOT_RUNNING;
  if (pod.podIP === undefined || pod.podIP === "") return NOT_RUNNING;
  const refused = refusedAddress(pod.podIP);
  if (refused !== undefined) return `pod IP refused: ${refused}`;
  if (endpoint.port === undefined) {
    return "no port: set leakwatch.dev/port on the pod or spec.target.port on the LeakWatch";
  }
  const port = resolvePort(pod, container, endpoint.port);
  if (port === undefined) return `no container port named "${String(endpoint.port)}"`;
  const goroutinePort =
    endpoint.goroutinePort === undefined ? port : resolvePort(pod, container, endpoint.goroutinePort);
  if (goroutinePort === undefined) return `no container port named "${String(endpoint.goroutinePort)}"`;
  if (!settings.target.allowNonPprofPaths) {
    for (const path of [endpoint.heapPath, endpoint.goroutinePath, settings.target.goroutineLeakPath]) {
      if (path !== "" && !isPprofPath(path)) {
        return `path ${path} is not under /debug/pprof/ (set spec.target.allowNonPprofPaths to allow it)`;
      }
    }
  }
  const snooze = snoozedUntil(pod.annotations);
  return {
    key: `${pod.namespace}/${pod.name}/${container.name}`,
    namespace: pod.namespace,
    pod: pod.name,
    podUID: pod.uid,
    container: container.name,
    image: container.image,
    owner: pod.owner,
    workload: workloadOf(pod),
    address: pod.podIP,
    port,
    scheme: endpoint.scheme,
    heapPath: endpoint.heapPath,
    goroutinePath: endpoint.goroutinePath,
    goroutineLeakPath: settings.target.goroutineLeakPath,
    goroutinePort,
    memoryLimitBytes: container.memoryLimitBytes,
    restartCount: status.restartCount,
    startedAt: status.startedAt,
    lastTerminationReason: status.lastTerminationReason,
    ready: pod.ready,
    restartOptOut: restartOptedOut(pod.annotations),
    snoozedUntil: snooze.until,
    problems: [
      ...problems.map((p) => `${p.key}: ${p.message}`),
      ...(snooze.problem === undefined ? [] : [`leakwatch.dev/snooze-until: ${snooze.problem}`]),
    ],
  };
}

/** The named container, else the one declaring the port, else the only (or first) container. */
function chooseContainer(
  pod: PodInfo,
  name: string | undefined,
  port: number | string | undefined,
): ContainerInfo | undefined {
  if (name !== undefined) return pod.containers.find((c) => c.name === name);
  if (port !== undefined) {
    const declaring = pod.containers.find((c) =>
      c.ports.some((p) => p.name === port || p.containerPort === port),
    );
    if (declaring !== undefined) return declaring;
  }
  return pod.containers[0];
}

function resolvePort(pod: PodInfo, container: ContainerInfo, port: number | string): number | undefined {
  if (typeof port === "number") return port;
  const own = container.ports.find((p) => p.name === port);
  if (own !== undefined) return own.containerPort;
  // A port named on a sibling container (a sidecar serving pprof) is still in the same pod.
  return pod.containers.flatMap((c) => c.ports).find((p) => p.name === port)?.containerPort;
}

/** The Deployment behind a ReplicaSet is named by stripping the pod-template-hash suffix. */
export function workloadOf(pod: PodInfo): Workload | undefined {
  const owner = pod.owner;
  if (owner === undefined) return undefined;
  const hash = pod.labels["pod-template-hash"];
  if (owner.kind === "ReplicaSet" && hash !== undefined && owner.name.endsWith(`-${hash}`)) {
    return { kind: "Deployment", name: owner.name.slice(0, -hash.length - 1) };
  }
  return { kind: owner.kind, name: owner.name };
}
