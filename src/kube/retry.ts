// What a failed reconcile leads to, decided by a pure function of the error and the attempt number
// (kube-rs's error_policy): a retry after a backoff, or nothing for an error that retrying cannot fix.
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { KubeApiError } from "./errors.ts";

/** Thrown by a reconcile that cannot succeed until its input changes: logged, never retried. */
export class TerminalError extends Error {
  override readonly name = "TerminalError";
  readonly code = "LW_TERMINAL";
}

export type RetryDecision = { readonly retryAfterMs: number } | "terminal";

/** Retry windows: 1 s for the first failure, doubling to 5 min. */
export const DEFAULT_RETRY: BackoffOptions = { initialMs: 1_000, maxMs: 5 * 60_000 };

/**
 * The default policy: TerminalError is terminal; anything else is retried after an exponential
 * backoff with equal jitter (never sooner than half the window, so a failing key cannot spin), or
 * later if the API server asked for it with Retry-After.
 *
 * @param attempt 1 for the first failure of a key.
 */
export function retryPolicy(
  err: unknown,
  attempt: number,
  options: BackoffOptions = DEFAULT_RETRY,
  random: () => number = Math.random,
): RetryDecision {
  if (err instanceof TerminalError) return "terminal";
  const backoffMs = backoffDelay(attempt - 1, options, random, "equal");
  const serverMs = err instanceof KubeApiError ? (err.retryAfterSeconds ?? 0) * 1000 : 0;
  return { retryAfterMs: Math.max(backoffMs, serverMs) };
}
