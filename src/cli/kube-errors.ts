// The one line on-call reads when a cluster command fails: what went wrong, in their terms, and what
// to do about it. Branches on error classes and HTTP statuses; parses only the API server's
// standard 403 wording (to name the verb and resource), with a generic line when it differs.
import {
  CaptureCorruptError,
  CaptureError,
  CaptureIncompleteError,
  CaptureNotFoundError,
} from "../kube/capture-errors.ts";
import { KubeApiError, KubeConfigError, KubeConnectionError, KubeError } from "../kube/errors.ts";
import { LeakWatchCrdMissingError } from "../kube/leakwatches.ts";

export interface ErrorContext {
  /** The API server's URL, once the kubeconfig was read. */
  readonly server?: string | undefined;
  readonly context?: string | undefined;
  readonly namespace?: string | undefined;
}

export const CRD_HINT = "kubectl apply --server-side -f crds/ (or helm install leakwatch charts/leakwatch)";

/** The message for an expected failure, or undefined for anything else (a bug: rethrow it). */
export function describeClusterError(err: unknown, ctx: ErrorContext = {}): string | undefined {
  const line = describe(err, ctx);
  return line === undefined ? undefined : line.replace(/\s+/g, " ").trim();
}

function describe(err: unknown, ctx: ErrorContext): string | undefined {
  if (err instanceof LeakWatchCrdMissingError) {
    return `the LeakWatch CRD is not installed in this cluster (${err.server}): ${CRD_HINT}`;
  }
  if (err instanceof CaptureError) return describeCapture(err, ctx);
  if (err instanceof KubeApiError) return describeApi(err, ctx);
  if (err instanceof KubeConnectionError) {
    const server = ctx.server ?? "the API server";
    return `cannot reach the cluster at ${server} (${rootCause(err)}): is it up, and is this the right context? (kubectl config current-context)`;
  }
  if (err instanceof KubeConfigError) {
    return ctx.context === undefined
      ? err.message
      : `${err.message} (does the kubeconfig have a context named "${ctx.context}"? kubectl config get-contexts)`;
  }
  if (err instanceof KubeError) return err.message;
  return undefined;
}

function describeApi(err: KubeApiError, ctx: ErrorContext): string {
  const server = ctx.server ?? "the API server";
  if (err.status === 401) {
    return `the cluster at ${server} rejected the credentials (401 Unauthorized): log in again or pick another --context`;
  }
  if (err.status === 403) return `access denied: ${forbidden(err)}`;
  return err.message;
}

/**
 * "User "system:serviceaccount:x:y" cannot list resource "leakwatches" in API group
 * "leakwatch.dev" in the namespace "x"" → "system:serviceaccount:x:y cannot list
 * leakwatches.leakwatch.dev in namespace x".
 */
export function forbidden(err: Pick<KubeApiError, "message" | "method" | "path">): string {
  const text = err.message;
  const resource =
    /User "([^"]*)" cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)"| at the cluster scope)?/.exec(
      text,
    );
  if (resource !== null) {
    const [, user = "", verb = "", name = "", group = "", namespace] = resource;
    const what = group === "" ? name : `${name}.${group}`;
    const where = namespace === undefined ? " at the cluster scope" : ` in namespace ${namespace}`;
    return `${user} cannot ${verb} ${what}${where} (ask for a Role that grants it, or use another --context)`;
  }
  const path = /User "([^"]*)" cannot (\S+) path "([^"]+)"/.exec(text);
  if (path !== null) {
    const [, user = "", verb = "", url = ""] = path;
    return `${user} cannot ${verb} ${url} (ask for a Role that grants it, or use another --context)`;
  }
  return `${err.method} ${err.path} is forbidden: ${text.replace(/^.*?: 403 Forbidden: /, "")}`;
}

function describeCapture(err: CaptureError, ctx: ErrorContext): string {
  const ns = ctx.namespace;
  const where = ns === undefined ? "" : ` in namespace ${ns}`;
  const list = `leakwatch captures list${ns === undefined ? "" : ` -n ${ns}`}`;
  if (err instanceof CaptureNotFoundError) {
    return `capture ${err.capture} not found${where} (${list} shows the captures there)`;
  }
  const detail = err.message.replace(new RegExp(`^capture ${escape(err.capture)}:?\\s*`), "");
  if (err instanceof CaptureIncompleteError) {
    return `capture ${err.capture} is incomplete: ${detail} (its save never finished or a part was deleted; ${list} shows whole captures)`;
  }
  if (err instanceof CaptureCorruptError) {
    return `capture ${err.capture} is corrupt: ${detail} (nothing was written)`;
  }
  return err.message;
}

/** The innermost message: "connect ECONNREFUSED 127.0.0.1:1", not our wrapping of it. */
function rootCause(err: Error): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
