// Writes a LeakWatch's status through the status subresource: only when it differs from what was
// last written or observed, at most every `minIntervalMs` per LeakWatch unless the change is
// significant (a verdict, a condition, a capture or restart), as a merge patch guarded by the
// resourceVersion, re-read and retried on conflict.
import { API_VERSION, PLURAL } from "../api/group.ts";
import type { LeakWatchStatus, PodReport } from "../api/types.ts";
import type { KubeClient } from "./client.ts";
import { KubeError, isConflict } from "./errors.ts";
import { createMergePatch, jsonEqual } from "./json-patch.ts";
import { silentLogger, type Logger } from "./logger.ts";

export { findCondition, removeCondition, setCondition, type ConditionUpdate } from "./conditions.ts";

export interface LeakWatchKey {
  namespace: string;
  name: string;
}

/** The parts of a LeakWatch the writer reads: from the informer's cache, or a fresh GET. */
export interface ObservedLeakWatch {
  metadata: { namespace: string; name: string; resourceVersion?: string };
  status?: LeakWatchStatus;
}

export type StatusWriteResult =
  | { result: "written"; resourceVersion: string; attempts: number }
  | { result: "unchanged" }
  /** Rate-limited: nothing written; reconcile again after `retryAfterMs`. */
  | { result: "deferred"; retryAfterMs: number };

export interface StatusWriterOptions {
  client: Pick<KubeClient, "get" | "patch">;
  /** Least time between two writes of one LeakWatch's status, significant changes excepted. */
  minIntervalMs: number;
  /** Patch attempts when others keep changing the object (default 4). */
  maxAttempts?: number;
  now?: () => number;
  logger?: Logger;
}

/** Every attempt met a newer resourceVersion. */
export class StatusConflictError extends KubeError {
  override readonly name = "StatusConflictError";
  override readonly code = "LW_STATUS_CONFLICT";
  constructor(key: LeakWatchKey, attempts: number, options?: ErrorOptions) {
    super(
      `status of ${key.namespace}/${key.name}: still conflicting after ${attempts} attempts`,
      true,
      options,
    );
  }
}

interface Known {
  status: LeakWatchStatus | undefined;
  resourceVersion: string | undefined;
  lastWriteMs: number;
}

export class StatusWriter {
  private readonly client: Pick<KubeClient, "get" | "patch">;
  private readonly minIntervalMs: number;
  private readonly maxAttempts: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly known = new Map<string, Known>();

  constructor(options: StatusWriterOptions) {
    this.client = options.client;
    this.minIntervalMs = options.minIntervalMs;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Takes the status as the API server has it (an informer update, or the object a reconcile
   * read), so a status someone else changed is compared against, not overwritten blindly.
   */
  observe(object: ObservedLeakWatch): void {
    const key = keyOf(object.metadata);
    const known = this.known.get(key);
    if (known !== undefined && known.resourceVersion === object.metadata.resourceVersion) return;
    this.known.set(key, {
      status: object.status,
      resourceVersion: object.metadata.resourceVersion,
      lastWriteMs: known?.lastWriteMs ?? Number.NEGATIVE_INFINITY,
    });
  }

  /** Forgets a deleted LeakWatch. */
  forget(key: LeakWatchKey): void {
    this.known.delete(keyOf(key));
  }

  async write(
    key: LeakWatchKey,
    desired: LeakWatchStatus,
    options: { significant?: boolean } = {},
  ): Promise<StatusWriteResult> {
    const id = keyOf(key);
    let known = this.known.get(id);
    if (known?.status !== undefined && jsonEqual(known.status, desired)) return { result: "unchanged" };
    const now = this.now();
    if (known !== undefined && now - known.lastWriteMs < this.minIntervalMs) {
      const significant = options.significant === true || isSignificantChange(known.status, desired);
      if (!significant)
        return { result: "deferred", retryAfterMs: known.lastWriteMs + this.minIntervalMs - now };
    }
    let lastConflict: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (known?.resourceVersion === undefined) {
        known = await this.read(key, known?.lastWriteMs ?? Number.NEGATIVE_INFINITY);
        if (jsonEqual(known.status ?? {}, desired)) return { result: "unchanged" };
      }
      const patch = {
        metadata: { resourceVersion: known.resourceVersion },
        status: createMergePatch(known.status ?? {}, desired),
      };
      try {
        const updated = await this.client.patch<ObservedLeakWatch>(statusPath(key), patch, "merge");
        const resourceVersion = updated.metadata.resourceVersion ?? "";
        this.known.set(id, { status: desired, resourceVersion, lastWriteMs: this.now() });
        return { result: "written", resourceVersion, attempts: attempt };
      } catch (err) {
        if (!isConflict(err)) throw err;
        lastConflict = err;
        this.logger.debug({ leakWatch: id, attempt }, "status conflict; reading again");
        known = { ...known, resourceVersion: undefined };
      }
    }
    throw new StatusConflictError(key, this.maxAttempts, { cause: lastConflict });
  }

  private async read(key: LeakWatchKey, lastWriteMs: number): Promise<Known> {
    const current = await this.client.get<ObservedLeakWatch>(objectPath(key));
    const known = { status: current.status, resourceVersion: current.metadata.resourceVersion, lastWriteMs };
    this.known.set(keyOf(key), known);
    return known;
  }
}

/**
 * Changes worth writing at once: a verdict (counts or a pod's row), a condition's status or
 * reason, observedGeneration, a new capture or restart. Moved figures (heap, growth) can wait.
 */
export function isSignificantChange(previous: LeakWatchStatus | undefined, next: LeakWatchStatus): boolean {
  if (previous === undefined) return true;
  if (previous.observedGeneration !== next.observedGeneration) return true;
  const counts = ["collecting", "healthy", "suspected", "leaking", "failing"] as const;
  if (counts.some((c) => (previous[c] ?? 0) !== (next[c] ?? 0))) return true;
  const conditionKey = (s: LeakWatchStatus): unknown =>
    (s.conditions ?? []).map((c) => [c.type, c.status, c.reason]).sort();
  if (!jsonEqual(conditionKey(previous), conditionKey(next))) return true;
  const verdicts = (rows: PodReport[] | undefined): unknown =>
    (rows ?? []).map((r) => [r.pod, r.container ?? "", r.verdict, r.goroutineVerdict ?? ""]).sort();
  if (!jsonEqual(verdicts(previous.pods), verdicts(next.pods))) return true;
  const names = (items: { time: string }[] | undefined): unknown => (items ?? []).map((i) => i.time);
  return (
    !jsonEqual(
      (previous.captures ?? []).map((c) => c.name),
      (next.captures ?? []).map((c) => c.name),
    ) || !jsonEqual(names(previous.restarts), names(next.restarts))
  );
}

function keyOf(key: LeakWatchKey): string {
  return `${key.namespace}/${key.name}`;
}

function objectPath(key: LeakWatchKey): string {
  return `/apis/${API_VERSION}/namespaces/${encodeURIComponent(key.namespace)}/${PLURAL}/${encodeURIComponent(key.name)}`;
}

function statusPath(key: LeakWatchKey): string {
  return `${objectPath(key)}/status`;
}
