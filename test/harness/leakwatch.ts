// Helpers for LeakWatch objects in tests: create one, read its status.
import type { LeakWatch, LeakWatchSpec, LeakWatchStatus, PodReport } from "../../src/api/types.ts";
import { clients } from "./kube.ts";

const GVR = { group: "leakwatch.dev", version: "v1alpha1", plural: "leakwatches" } as const;

export async function createLeakWatch(
  namespace: string,
  name: string,
  spec: LeakWatchSpec,
): Promise<LeakWatch> {
  return (await clients().custom.createNamespacedCustomObject({
    ...GVR,
    namespace,
    body: { apiVersion: "leakwatch.dev/v1alpha1", kind: "LeakWatch", metadata: { name }, spec },
  })) as LeakWatch;
}

export async function getLeakWatch(namespace: string, name: string): Promise<LeakWatch> {
  return (await clients().custom.getNamespacedCustomObject({ ...GVR, namespace, name })) as LeakWatch;
}

export async function patchLeakWatchSpec(
  namespace: string,
  name: string,
  spec: Partial<LeakWatchSpec>,
): Promise<void> {
  await clients().custom.patchNamespacedCustomObject({
    ...GVR,
    namespace,
    name,
    body: [{ op: "add", path: "/spec", value: { ...(await getLeakWatch(namespace, name)).spec, ...spec } }],
  });
}

export async function status(namespace: string, name: string): Promise<LeakWatchStatus> {
  return (await getLeakWatch(namespace, name)).status ?? {};
}

export function podRow(s: LeakWatchStatus, pod: string): PodReport | undefined {
  return s.pods?.find((p) => p.pod === pod);
}

/** A demo-speed spec: scrape every second, judge over a minute. */
export function fastSpec(overrides: Partial<LeakWatchSpec> = {}): LeakWatchSpec {
  return {
    selector: {},
    interval: "1s",
    detection: { window: "1m", warmup: "3s" },
    ...overrides,
  };
}
