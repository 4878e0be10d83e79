// The decisions of leader election as pure functions of the Lease record and local time. Like
// client-go, time written by another replica is never trusted: a candidate notes when it *saw* the
// record change on its own monotonic clock, and the lease counts as expired only once
// leaseDurationSeconds have passed since then without a change.

/** coordination.k8s.io/v1 LeaseSpec, as far as leader election uses it. */
export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface LeaderRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string | undefined;
  readonly renewTime: string | undefined;
  readonly leaseTransitions: number;
}

/** A record and when (local monotonic ms) we first saw it in this form. */
export interface Observation {
  readonly record: LeaderRecord;
  readonly observedAt: number;
}

export interface LeaseTimings {
  /** How long others wait, from the last change they saw, before taking over (default 15 s). */
  readonly leaseDurationMs: number;
  /** How long the leader keeps leading without a successful renewal (default 10 s). */
  readonly renewDeadlineMs: number;
  /** Pause between attempts to acquire or renew (default 2 s). */
  readonly retryPeriodMs: number;
}

export const DEFAULT_LEASE_TIMINGS: LeaseTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

export class LeaseConfigError extends Error {
  override readonly name = "LeaseConfigError";
  readonly code = "LW_LEASE_CONFIG";
}

/** Bad timings fail at construction: retry < renew deadline < lease duration, whole seconds of lease. */
export function validateLeaseTimings(t: LeaseTimings): void {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = t;
  if (!(retryPeriodMs > 0)) throw new LeaseConfigError(`retryPeriod must be > 0 (got ${retryPeriodMs} ms)`);
  if (!(renewDeadlineMs > retryPeriodMs)) {
    throw new LeaseConfigError(
      `renewDeadline (${renewDeadlineMs} ms) must be longer than retryPeriod (${retryPeriodMs} ms)`,
    );
  }
  if (!(leaseDurationMs > renewDeadlineMs)) {
    throw new LeaseConfigError(
      `leaseDuration (${leaseDurationMs} ms) must be longer than renewDeadline (${renewDeadlineMs} ms)`,
    );
  }
  if (leaseDurationMs % 1000 !== 0) {
    throw new LeaseConfigError(`leaseDuration must be whole seconds (got ${leaseDurationMs} ms)`);
  }
}

/** Each API call is bounded so one hung request cannot cost the lease (controller-runtime's rule). */
export function apiCallTimeoutMs(t: LeaseTimings): number {
  return Math.max(t.renewDeadlineMs / 2, 1000);
}

export function recordOf(spec: LeaseSpec | undefined): LeaderRecord {
  return {
    holderIdentity: spec?.holderIdentity ?? "",
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTime: spec?.acquireTime ?? undefined,
    renewTime: spec?.renewTime ?? undefined,
    leaseTransitions: spec?.leaseTransitions ?? 0,
  };
}

export function sameRecord(a: LeaderRecord, b: LeaderRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/** The observation after reading `record` at `now`: the clock restarts only when the record changed. */
export function observe(previous: Observation | undefined, record: LeaderRecord, now: number): Observation {
  if (previous !== undefined && sameRecord(previous.record, record)) return previous;
  return { record, observedAt: now };
}

/**
 * Another replica holds a lease that has not expired by our clock: its holder is someone else and
 * the record changed less than its leaseDurationSeconds ago (as we saw it).
 */
export function heldByOther(observation: Observation, identity: string, now: number): boolean {
  const { holderIdentity, leaseDurationSeconds } = observation.record;
  if (holderIdentity === "" || holderIdentity === identity) return false;
  return observation.observedAt + leaseDurationSeconds * 1000 > now;
}

/** The leader has gone `renewDeadlineMs` since the start of its last successful renewal. */
export function renewDeadlinePassed(lastRenewStartedAt: number, now: number, t: LeaseTimings): boolean {
  return now - lastRenewStartedAt >= t.renewDeadlineMs;
}

/** The record we write to acquire or renew. */
export function acquiredRecord(
  current: LeaderRecord | undefined,
  identity: string,
  leaseDurationSeconds: number,
  wallNow: Date,
): LeaderRecord {
  const now = microTime(wallNow);
  const renewing = current?.holderIdentity === identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: renewing ? (current.acquireTime ?? now) : now,
    renewTime: now,
    leaseTransitions: (current?.leaseTransitions ?? 0) + (current !== undefined && !renewing ? 1 : 0),
  };
}

/** What a leader writes when it steps down: no holder, so a candidate acquires at its next try. */
export function releasedRecord(current: LeaderRecord, wallNow: Date): LeaderRecord {
  const now = microTime(wallNow);
  return {
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: current.leaseTransitions,
  };
}

export function specOf(record: LeaderRecord): LeaseSpec {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: record.acquireTime ?? null,
    renewTime: record.renewTime ?? null,
    leaseTransitions: record.leaseTransitions,
  };
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
