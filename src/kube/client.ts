// A small REST client for the API server. @kubernetes/client-node supplies what is hard to get
// right — kubeconfig loading, in-cluster config, exec/OIDC auth, TLS material — and requests go
// through node:https with one keep-alive agent, bounded response sizes and deadlines, so every
// call has a typed error and no call can hang forever.
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError, KubeConfigError, KubeConnectionError, KubeResponseError } from "./errors.ts";

export type PatchType = "merge" | "json" | "strategic" | "apply";

const CONTENT_TYPE: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface CallOptions {
  query?: Query;
  signal?: AbortSignal;
  /** Whole-request deadline (default 30 s). */
  timeoutMs?: number;
  /** Largest response body accepted (default 64 MiB). */
  maxBytes?: number;
  /** Accept header (default application/json), e.g. for metadata-only lists. */
  accept?: string;
}

export interface KubeClientOptions {
  /** Path to a kubeconfig; default: $KUBECONFIG, ~/.kube/config, or in-cluster. */
  kubeconfig?: string;
  context?: string;
  /** Sent as User-Agent, so audit logs show who we are. */
  userAgent?: string;
  /** How often to re-read credentials (rotated service-account tokens, exec plugins). */
  credentialRefreshMs?: number;
}

interface Credentials {
  headers: Record<string, string>;
  fetchedAt: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 64 << 20;

export class KubeClient {
  readonly server: string;
  readonly currentNamespace: string;
  private readonly config: KubeConfig;
  private readonly agent: HttpsAgent | HttpAgent;
  private readonly tls: Pick<RequestOptions, "ca" | "cert" | "key" | "rejectUnauthorized" | "servername">;
  private readonly userAgent: string;
  private readonly refreshMs: number;
  private credentials: Promise<Credentials> | undefined;

  private constructor(
    config: KubeConfig,
    tls: KubeClient["tls"],
    agent: HttpsAgent | HttpAgent,
    options: KubeClientOptions,
  ) {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new KubeConfigError("the kubeconfig has no current cluster");
    this.config = config;
    this.server = cluster.server.replace(/\/+$/, "");
    this.currentNamespace = config.getContextObject(config.getCurrentContext())?.namespace ?? "default";
    this.tls = tls;
    this.agent = agent;
    this.userAgent = options.userAgent ?? "leakwatch";
    this.refreshMs = options.credentialRefreshMs ?? 60_000;
  }

  static async load(options: KubeClientOptions = {}): Promise<KubeClient> {
    const config = new KubeConfig();
    try {
      if (options.kubeconfig !== undefined) config.loadFromFile(options.kubeconfig);
      else config.loadFromDefault();
      if (options.context !== undefined) config.setCurrentContext(options.context);
    } catch (err) {
      throw new KubeConfigError(`cannot load kubeconfig: ${(err as Error).message}`, { cause: err });
    }
    return KubeClient.fromKubeConfig(config, options);
  }

  static async fromKubeConfig(config: KubeConfig, options: KubeClientOptions = {}): Promise<KubeClient> {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new KubeConfigError("the kubeconfig has no current cluster");
    const probe: RequestOptions = {};
    try {
      await config.applyToHTTPSOptions(probe);
    } catch (err) {
      throw new KubeConfigError(`cannot read credentials: ${(err as Error).message}`, { cause: err });
    }
    const tls = {
      ca: probe.ca,
      cert: probe.cert,
      key: probe.key,
      rejectUnauthorized: probe.rejectUnauthorized,
      servername: probe.servername,
    };
    // A configured proxy needs client-node's proxy agent; otherwise our own keep-alive agent.
    const agent =
      cluster.proxyUrl !== undefined && probe.agent instanceof HttpsAgent
        ? probe.agent
        : cluster.server.startsWith("http:")
          ? new HttpAgent({ keepAlive: true, maxFreeSockets: 16 })
          : new HttpsAgent({ keepAlive: true, maxFreeSockets: 16, ...definedOnly(tls) });
    return new KubeClient(config, tls, agent, options);
  }

  async get<T>(path: string, options?: CallOptions): Promise<T> {
    return this.json<T>("GET", path, undefined, undefined, options);
  }

  async create<T>(path: string, body: unknown, options?: CallOptions): Promise<T> {
    return this.json<T>("POST", path, body, "application/json", options);
  }

  async replace<T>(path: string, body: unknown, options?: CallOptions): Promise<T> {
    return this.json<T>("PUT", path, body, "application/json", options);
  }

  async patch<T>(path: string, body: unknown, type: PatchType, options?: CallOptions): Promise<T> {
    return this.json<T>("PATCH", path, body, CONTENT_TYPE[type], options);
  }

  async delete<T>(path: string, body?: unknown, options?: CallOptions): Promise<T> {
    return this.json<T>("DELETE", path, body, body === undefined ? undefined : "application/json", options);
  }

  /**
   * Opens a streaming GET (watches, pod proxy). Resolves once the status line arrives; a non-2xx
   * answer is read (bounded) and thrown as KubeApiError. The caller owns the stream and its deadline.
   */
  async stream(
    path: string,
    options: Omit<CallOptions, "maxBytes" | "timeoutMs"> & { connectTimeoutMs?: number } = {},
  ): Promise<IncomingMessage> {
    const res = await this.send(
      "GET",
      path,
      undefined,
      undefined,
      options.query,
      options.signal,
      options.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) return res;
    const text = await readBounded(res, 1 << 20, "GET", path);
    throw apiError(res, text, "GET", path);
  }

  /** Stops keep-alive sockets, so the process can exit. */
  close(): void {
    this.agent.destroy();
  }

  private async json<T>(
    method: string,
    path: string,
    body: unknown,
    contentType: string | undefined,
    options: CallOptions = {},
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline]);
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const res = await this.send(
      method,
      path,
      payload,
      contentType,
      options.query,
      signal,
      timeoutMs,
      options.accept,
    );
    let text: string;
    try {
      text = await readBounded(res, options.maxBytes ?? DEFAULT_MAX_BYTES, method, path, signal);
    } catch (err) {
      if (signal.aborted)
        throw new KubeConnectionError(`${method} ${path}: no complete answer within ${timeoutMs} ms`, {
          cause: err,
        });
      throw err;
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw apiError(res, text, method, path);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new KubeResponseError(`${method} ${path}: answer is not JSON`, { cause: err });
    }
  }

  private async headers(): Promise<Record<string, string>> {
    const now = Date.now();
    const current = this.credentials;
    if (current !== undefined) {
      const creds = await current.catch(() => undefined);
      if (creds !== undefined && now - creds.fetchedAt < this.refreshMs) return creds.headers;
    }
    const next = (async (): Promise<Credentials> => {
      const opts: RequestOptions = {};
      await this.config.applyToHTTPSOptions(opts);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === "string") headers[k] = v;
      if (typeof opts.auth === "string")
        headers.Authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`;
      return { headers, fetchedAt: Date.now() };
    })();
    this.credentials = next;
    try {
      return (await next).headers;
    } catch (err) {
      this.credentials = undefined;
      throw new KubeConfigError(`cannot refresh credentials: ${(err as Error).message}`, { cause: err });
    }
  }

  private async send(
    method: string,
    path: string,
    payload: string | undefined,
    contentType: string | undefined,
    query: Query | undefined,
    signal: AbortSignal | undefined,
    connectTimeoutMs: number,
    accept = "application/json",
  ): Promise<IncomingMessage> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      ...(await this.headers()),
      Accept: accept,
      "User-Agent": this.userAgent,
    };
    if (payload !== undefined) {
      headers["Content-Type"] = contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const requestFn = url.protocol === "http:" ? httpRequest : httpsRequest;
    return new Promise<IncomingMessage>((resolveResponse, reject) => {
      const req = requestFn(
        url,
        {
          method,
          headers,
          agent: this.agent,
          ...definedOnly(this.tls),
          ...(signal === undefined ? {} : { signal }),
        },
        (res) => {
          // The socket timeout covers only the wait for the status line: a quiet watch is not a
          // dead one (the caller's watchdog and the whole-request deadline cover the body).
          req.setTimeout(0);
          resolveResponse(res);
        },
      );
      // Connecting and the first byte of the answer must come within the deadline.
      req.setTimeout(connectTimeoutMs, () => {
        req.destroy(new KubeConnectionError(`${method} ${path}: no answer within ${connectTimeoutMs} ms`));
      });
      req.on("error", (err) => {
        reject(
          err instanceof KubeConnectionError
            ? err
            : new KubeConnectionError(`${method} ${path}: ${err.message}`, { cause: err }),
        );
      });
      req.end(payload);
    });
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function readBounded(
  res: IncomingMessage,
  maxBytes: number,
  method: string,
  path: string,
  signal?: AbortSignal,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > maxBytes) {
        res.destroy();
        throw new KubeResponseError(`${method} ${path}: answer larger than ${maxBytes} bytes`);
      }
      chunks.push(buf);
    }
  } catch (err) {
    if (err instanceof KubeResponseError) throw err;
    if (signal?.aborted === true) throw err;
    throw new KubeConnectionError(
      `${method} ${path}: connection lost while reading: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return Buffer.concat(chunks).toString("utf8");
}

interface StatusBody {
  kind?: string;
  reason?: string;
  message?: string;
}

function apiError(res: IncomingMessage, text: string, method: string, path: string): KubeApiError {
  let body: StatusBody | undefined;
  try {
    body = JSON.parse(text) as StatusBody;
  } catch {
    body = undefined;
  }
  const retryAfter = Number(res.headers["retry-after"]);
  return new KubeApiError({
    status: res.statusCode ?? 0,
    reason: body?.reason ?? res.statusMessage ?? "Unknown",
    message: body?.message ?? text.slice(0, 500),
    method,
    path,
    retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : undefined,
    body,
  });
}
