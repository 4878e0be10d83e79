// Typed errors for everything that talks to the API server. Callers branch on the class, `status`
// or `reason`, never on message text.

export class KubeError extends Error {
  override readonly name: string = "KubeError";
  readonly code: string = "LW_KUBE";
  /** Worth trying again later (outage, throttling, conflict), as opposed to a request that cannot work. */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: ErrorOptions) {
    super(message, options);
    this.retryable = retryable;
  }
}

/** The API server answered with an error Status. */
export class KubeApiError extends KubeError {
  override readonly name = "KubeApiError";
  override readonly code = "LW_KUBE_API";
  readonly status: number;
  /** metav1.Status reason: NotFound, Conflict, AlreadyExists, Expired, Forbidden, TooManyRequests, Invalid … */
  readonly reason: string;
  readonly method: string;
  readonly path: string;
  /** Seconds the server asked us to wait (Retry-After), if any. */
  readonly retryAfterSeconds: number | undefined;
  readonly body: unknown;
  constructor(init: {
    status: number;
    reason: string;
    message: string;
    method: string;
    path: string;
    retryAfterSeconds?: number | undefined;
    body?: unknown;
  }) {
    super(
      `${init.method} ${init.path}: ${init.status} ${init.reason}: ${init.message}`,
      init.status === 409 || init.status === 429 || init.status >= 500,
    );
    this.status = init.status;
    this.reason = init.reason;
    this.method = init.method;
    this.path = init.path;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.body = init.body;
  }

  get notFound(): boolean {
    return this.status === 404;
  }
  get conflict(): boolean {
    return this.status === 409;
  }
  /** 410 Gone: a watch's resourceVersion is too old; list again. */
  get expired(): boolean {
    return this.status === 410;
  }
}

/** No answer: refused, reset, DNS, TLS, or our own deadline. Always retryable. */
export class KubeConnectionError extends KubeError {
  override readonly name = "KubeConnectionError";
  override readonly code = "LW_KUBE_CONNECTION";
  constructor(message: string, options?: ErrorOptions) {
    super(message, true, options);
  }
}

/** A response we cannot read (not JSON, too large). */
export class KubeResponseError extends KubeError {
  override readonly name = "KubeResponseError";
  override readonly code = "LW_KUBE_RESPONSE";
  constructor(message: string, options?: ErrorOptions) {
    super(message, false, options);
  }
}

/** Why a watch stream was given up; every one of them is answered by a new watch. */
export type WatchFailure = "Idle" | "EventTooLarge" | "Malformed" | "ClosedEarly";

/** A watch stream that went silent, broke mid-event, or carried something we cannot read. */
export class KubeWatchError extends KubeError {
  override readonly name = "KubeWatchError";
  override readonly code = "LW_KUBE_WATCH";
  readonly failure: WatchFailure;
  constructor(failure: WatchFailure, message: string, options?: ErrorOptions) {
    super(message, true, options);
    this.failure = failure;
  }
}

/** The kubeconfig or in-cluster configuration cannot be used. */
export class KubeConfigError extends KubeError {
  override readonly name = "KubeConfigError";
  override readonly code = "LW_KUBE_CONFIG";
  constructor(message: string, options?: ErrorOptions) {
    super(message, false, options);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.notFound;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.conflict;
}
