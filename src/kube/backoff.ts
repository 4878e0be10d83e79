// Exponential backoff with jitter, as pure functions of the attempt number and a random source.
// "Full" jitter (AWS architecture blog) spreads reconnects of many clients after an outage over
// the whole window; "equal" jitter keeps at least half the window, so a retry never comes at once.

export interface BackoffOptions {
  /** Window of the first retry. */
  initialMs: number;
  /** Largest window. */
  maxMs: number;
}

export type Jitter = "full" | "equal";

/** The un-jittered window for a 0-based attempt: initialMs · 2^attempt, capped at maxMs. */
export function backoffWindow(attempt: number, options: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt, 0), 52);
  return Math.min(options.maxMs, options.initialMs * 2 ** exponent);
}

/** The delay before retry number `attempt` (0-based). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
  jitter: Jitter = "full",
): number {
  const window = backoffWindow(attempt, options);
  return jitter === "full" ? window * random() : window / 2 + (window / 2) * random();
}

/** `base` moved by up to ±fraction, so replicas and informers started together drift apart. */
export function jittered(base: number, fraction: number, random: () => number): number {
  return base * (1 - fraction + 2 * fraction * random());
}

export function validateBackoff(options: BackoffOptions, what: string): void {
  if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
    throw new RangeError(
      `${what}: backoff needs 0 < initialMs <= maxMs (got ${options.initialMs}, ${options.maxMs})`,
    );
  }
}
