// The Eviction API: a pod leaves only if every PodDisruptionBudget covering it allows one more
// disruption, which the API server checks for us (never a plain delete). A refusal (429) becomes a
// typed EvictionBlockedError naming the budgets, so the caller can say who is blocking and retry.
import type { LabelSelector } from "../api/types.ts";
import type { KubeClient } from "./client.ts";
import { KubeApiError, KubeError } from "./errors.ts";

export interface EvictionTarget {
  namespace: string;
  name: string;
  /** Evict only this instance of the pod (a StatefulSet's replacement has the same name). */
  uid?: string;
  labels: Readonly<Record<string, string>>;
}

export interface EvictionOptions {
  /** metav1.LabelSelector matching (injected: it lives with the controller's target discovery). */
  matchesSelector: (labels: Readonly<Record<string, string>>, selector: LabelSelector) => boolean;
  signal?: AbortSignal;
}

/** The API server refused the eviction with 429: a disruption budget (or throttling) blocks it. */
export class EvictionBlockedError extends KubeError {
  override readonly name = "EvictionBlockedError";
  override readonly code = "LW_EVICTION_BLOCKED";
  /** PodDisruptionBudgets in the namespace whose selector matches the pod. */
  readonly budgets: readonly string[];
  /** The API server's own explanation ("The disruption budget web needs 2 healthy pods …"). */
  readonly detail: string;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    pod: string,
    init: { budgets: readonly string[]; detail: string; retryAfterSeconds: number | undefined },
    options?: ErrorOptions,
  ) {
    const by = init.budgets.length === 0 ? "" : ` by PodDisruptionBudget ${init.budgets.join(", ")}`;
    super(`eviction of ${pod} refused${by}: ${init.detail}`, true, options);
    this.budgets = init.budgets;
    this.detail = init.detail;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

export type EvictionResult = "evicted" | "gone";

interface StatusBody {
  message?: string;
  /** metav1.StatusCause: its type is serialized as `reason`. */
  details?: { causes?: { reason?: string; message?: string }[] };
}

interface PdbList {
  items?: { metadata?: { name?: string }; spec?: { selector?: LabelSelector | null } }[];
}

/**
 * Evicts the pod. Resolves `gone` when the pod (this instance of it) no longer exists; throws
 * EvictionBlockedError on 429 and KubeError for anything else.
 */
export async function evictPod(
  client: Pick<KubeClient, "create" | "get">,
  pod: EvictionTarget,
  options: EvictionOptions,
): Promise<EvictionResult> {
  const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/eviction`;
  const body = {
    apiVersion: "policy/v1",
    kind: "Eviction",
    metadata: { name: pod.name, namespace: pod.namespace },
    ...(pod.uid === undefined ? {} : { deleteOptions: { preconditions: { uid: pod.uid } } }),
  };
  const signal = options.signal;
  try {
    await client.create(path, body, { ...(signal === undefined ? {} : { signal }), timeoutMs: 15_000 });
    return "evicted";
  } catch (err) {
    if (!(err instanceof KubeApiError)) throw err;
    if (err.notFound) return "gone";
    // The UID precondition failed: the pod under this name is another instance already.
    if (err.conflict && pod.uid !== undefined) return "gone";
    if (err.status !== 429) throw err;
    const detail = causeText(err.body) ?? err.message;
    const budgets = await coveringBudgets(client, pod, options);
    throw new EvictionBlockedError(
      pod.name,
      { budgets, detail, retryAfterSeconds: err.retryAfterSeconds },
      { cause: err },
    );
  }
}

/** The PodDisruptionBudgets whose selector matches the pod (policy/v1: a null selector matches nothing). */
export async function coveringBudgets(
  client: Pick<KubeClient, "get">,
  pod: EvictionTarget,
  options: EvictionOptions,
): Promise<string[]> {
  try {
    const signal = options.signal;
    const list = await client.get<PdbList>(
      `/apis/policy/v1/namespaces/${encodeURIComponent(pod.namespace)}/poddisruptionbudgets`,
      { ...(signal === undefined ? {} : { signal }), timeoutMs: 10_000 },
    );
    return (list.items ?? [])
      .filter((pdb) => {
        const selector = pdb.spec?.selector;
        return selector !== undefined && selector !== null && options.matchesSelector(pod.labels, selector);
      })
      .map((pdb) => pdb.metadata?.name ?? "")
      .filter((name) => name !== "")
      .sort();
  } catch {
    // Naming the budget is a courtesy; the API server's message still says what blocks.
    return [];
  }
}

function causeText(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const status = body as StatusBody;
  const causes = (status.details?.causes ?? [])
    .filter((c) => c.reason === "DisruptionBudget" && typeof c.message === "string")
    .map((c) => c.message ?? "");
  if (causes.length > 0) return causes.join("; ");
  return typeof status.message === "string" ? status.message : undefined;
}
