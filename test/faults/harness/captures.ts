// Captures as stored: whole ones (manifest + every part, hashes checked by reading them back),
// orphaned parts (no manifest), and duplicates (more than one whole capture of a pod in one
// growth episode).
import type { KubeClient } from "../../../src/kube/client.ts";
import { ConfigMapCaptureStore } from "../../../src/kube/captures.ts";
import { listConfigMapMetadata } from "../../../src/kube/configmaps.ts";
import { LABELS, MANAGED_BY } from "../../../src/kube/ownership.ts";

export interface CaptureAudit {
  whole: { name: string; pod: string; createdAt: string }[];
  /** Parts whose capture has no manifest, with their age. */
  orphans: { part: string; capture: string; ageMs: number }[];
  /** Whole captures whose bytes do not match their manifest. */
  unreadable: string[];
}

export async function auditCaptures(client: KubeClient, namespace: string): Promise<CaptureAudit> {
  const store = new ConfigMapCaptureStore({ client });
  const whole = (await store.list(namespace)).map((c) => ({
    name: c.name,
    pod: c.meta.pod,
    createdAt: c.meta.createdAt,
  }));
  const unreadable: string[] = [];
  for (const c of whole) {
    try {
      await store.get(namespace, c.name);
    } catch (err) {
      unreadable.push(`${c.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const parts = await listConfigMapMetadata(
    client,
    namespace,
    `${LABELS.managedBy}=${MANAGED_BY},${LABELS.captureRole}=part`,
  );
  const names = new Set(whole.map((c) => c.name));
  const now = Date.now();
  const orphans = parts
    .filter((p) => !names.has(p.metadata.labels?.[LABELS.capture] ?? ""))
    .map((p) => ({
      part: p.metadata.name,
      capture: p.metadata.labels?.[LABELS.capture] ?? "",
      ageMs: now - Date.parse(p.metadata.creationTimestamp ?? ""),
    }));
  return { whole, orphans, unreadable };
}

/** Whole captures per pod. */
export function capturesPerPod(audit: CaptureAudit): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of audit.whole) out.set(c.pod, (out.get(c.pod) ?? 0) + 1);
  return out;
}
