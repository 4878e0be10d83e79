// Where profile bytes come from: straight from the pod IP (`via: Direct`), or through the API
// server's pod proxy (`via: APIServerProxy`). Both end in the same bounded gunzip + decode.
import type { Via } from "../api/types.ts";
import { openPodProxy } from "../kube/podproxy.ts";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError, KubeConnectionError } from "../kube/errors.ts";
import {
  decodeProfileStream,
  fetchProfile,
  FetchAbortedError,
  FetchConnectError,
  FetchTimeoutError,
  HttpStatusError,
  ProfileError,
  type InflateAllowance,
  type ProfileLimits,
  type ReceivedProfile,
} from "../profile/index.ts";
import { hostPort } from "./address.ts";
import type { Target } from "./targets.ts";

export interface Credentials {
  bearerToken?: string;
  ca?: string;
}

export interface ProfileRequest {
  target: Target;
  path: string;
  port: number;
  forceGC: boolean;
  /** "leaf" is enough (and fastest) for heap summaries; goroutine grouping needs "full". */
  stacks: "leaf" | "full";
  timeoutMs: number;
  limits: ProfileLimits;
  /** The scrape's share of the operator's budget of inflated bytes in flight. */
  allowance: InflateAllowance | undefined;
  credentials: Credentials;
  signal: AbortSignal;
}

export interface ProfileSource {
  fetch(request: ProfileRequest): Promise<ReceivedProfile>;
}

export function profileUrl(request: Pick<ProfileRequest, "target" | "path" | "port">): string {
  return `${request.target.scheme}://${hostPort(request.target.address, request.port)}${request.path}`;
}

/** Dials the pod IP the API server reported; nothing else (see address.ts). */
export const directSource: ProfileSource = {
  async fetch(r) {
    return fetchProfile(profileUrl(r), {
      timeoutMs: r.timeoutMs,
      forceGC: r.forceGC,
      stacks: r.stacks,
      signal: r.signal,
      limits: r.limits,
      ...(r.allowance === undefined ? {} : { allowance: r.allowance }),
      ...(r.credentials.bearerToken === undefined ? {} : { bearerToken: r.credentials.bearerToken }),
      ...(r.credentials.ca === undefined ? {} : { ca: r.credentials.ca }),
    });
  },
};

/** Through the API server: `GET /api/v1/namespaces/NS/pods/[https:]POD:PORT/proxy/PATH`. */
export function apiServerProxySource(client: KubeClient): ProfileSource {
  return {
    async fetch(r) {
      const where = `pod proxy ${r.target.namespace}/${r.target.pod}:${r.port}${r.path}`;
      const deadline = AbortSignal.timeout(r.timeoutMs);
      const signal = AbortSignal.any([r.signal, deadline]);
      try {
        const res = await openPodProxy(client, {
          namespace: r.target.namespace,
          pod: r.target.pod,
          scheme: r.target.scheme,
          port: r.port,
          path: r.path,
          ...(r.forceGC ? { query: { gc: "1" } } : {}),
          signal,
          connectTimeoutMs: r.timeoutMs,
        });
        return await decodeProfileStream(res, {
          limits: r.limits,
          stacks: r.stacks,
          signal,
          ...(r.allowance === undefined ? {} : { allowance: r.allowance }),
        });
      } catch (err) {
        if (r.signal.aborted) throw new FetchAbortedError(where, { cause: err });
        if (deadline.aborted && r.allowance?.starved === true) throw r.allowance.starvedError(err);
        if (deadline.aborted) throw new FetchTimeoutError(where, r.timeoutMs, { cause: err });
        if (err instanceof ProfileError) throw err;
        if (err instanceof KubeApiError)
          throw new HttpStatusError(where, err.status, err.message.slice(0, 300));
        if (err instanceof KubeConnectionError) throw new FetchConnectError(where, undefined, { cause: err });
        throw err;
      }
    },
  };
}

export function sourceFor(via: Via, client: KubeClient): ProfileSource {
  return via === "APIServerProxy" ? apiServerProxySource(client) : directSource;
}

/** A short label for metrics: what kind of failure a scrape had. */
export function scrapeErrorKind(err: unknown): string {
  if (!(err instanceof ProfileError)) return "error";
  switch (err.code) {
    case "LW_PROFILE_FETCH_TIMEOUT":
      return "timeout";
    case "LW_PROFILE_FETCH_ABORTED":
      return "aborted";
    case "LW_PROFILE_FETCH_CONNECT":
    case "LW_PROFILE_FETCH_TLS":
      return "refused";
    case "LW_PROFILE_HTTP_STATUS":
      return "http_status";
    case "LW_PROFILE_TOO_LARGE_COMPRESSED":
    case "LW_PROFILE_TOO_LARGE_DECOMPRESSED":
    case "LW_PROFILE_TOO_LARGE_TABLES":
      return "too_large";
    case "LW_PROFILE_INFLIGHT_BUDGET":
      return "memory_budget";
    default:
      return "bad_profile";
  }
}
