// Profiles through the API server's pod proxy (`via: APIServerProxy`), so `leakwatch run` works
// from a laptop with only a kubeconfig. The API server refuses to proxy to loopback or link-local
// pod IPs, and does not forward our credentials to the pod.
import type { IncomingMessage } from "node:http";
import type { KubeClient } from "./client.ts";

export interface PodProxyRequest {
  namespace: string;
  pod: string;
  scheme: "http" | "https";
  port: number;
  path: string;
  query?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  connectTimeoutMs?: number;
}

export function podProxyPath(
  r: Pick<PodProxyRequest, "namespace" | "pod" | "scheme" | "port" | "path">,
): string {
  const name = r.scheme === "https" ? `https:${r.pod}:${r.port}` : `${r.pod}:${r.port}`;
  return `/api/v1/namespaces/${encodeURIComponent(r.namespace)}/pods/${encodeURIComponent(name)}/proxy${r.path}`;
}

/** Opens the proxied GET; the caller streams the body (bounded) and owns the deadline. */
export async function openPodProxy(client: KubeClient, r: PodProxyRequest): Promise<IncomingMessage> {
  return client.stream(podProxyPath(r), {
    ...(r.query === undefined ? {} : { query: r.query }),
    ...(r.signal === undefined ? {} : { signal: r.signal }),
    ...(r.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: r.connectTimeoutMs }),
  });
}
