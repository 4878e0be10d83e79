import { describe, expect, it } from "vitest";
import {
  DEFAULT_LEASE_TIMINGS,
  LeaseConfigError,
  acquiredRecord,
  apiCallTimeoutMs,
  heldByOther,
  microTime,
  observe,
  recordOf,
  releasedRecord,
  renewDeadlinePassed,
  validateLeaseTimings,
} from "../../../src/kube/lease-record.ts";

const record = (holder: string, renewTime = "2030-01-01T00:00:00.000000Z") =>
  recordOf({
    holderIdentity: holder,
    leaseDurationSeconds: 15,
    renewTime,
    acquireTime: renewTime,
    leaseTransitions: 3,
  });

describe("lease timings", () => {
  it("accepts the defaults and refuses retry >= renew or renew >= lease", () => {
    expect(() => {
      validateLeaseTimings(DEFAULT_LEASE_TIMINGS);
    }).not.toThrow();
    const bad = [
      { leaseDurationMs: 15_000, renewDeadlineMs: 15_000, retryPeriodMs: 2_000 },
      { leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 },
      { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 },
      { leaseDurationMs: 15_500, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
    ];
    for (const t of bad) {
      expect(() => {
        validateLeaseTimings(t);
      }, JSON.stringify(t)).toThrow(LeaseConfigError);
    }
  });

  it("bounds every API call by max(renewDeadline / 2, 1 s)", () => {
    expect(apiCallTimeoutMs(DEFAULT_LEASE_TIMINGS)).toBe(5_000);
    expect(apiCallTimeoutMs({ leaseDurationMs: 3_000, renewDeadlineMs: 1_500, retryPeriodMs: 500 })).toBe(
      1_000,
    );
  });

  it("the leader gives up at its renew deadline, counted from the start of its last good renewal", () => {
    expect(renewDeadlinePassed(1_000, 10_999, DEFAULT_LEASE_TIMINGS)).toBe(false);
    expect(renewDeadlinePassed(1_000, 11_000, DEFAULT_LEASE_TIMINGS)).toBe(true);
  });
});

describe("judging a lease by local time", () => {
  it("restarts the observation clock only when the record changes", () => {
    const first = observe(undefined, record("a"), 1_000);
    expect(observe(first, record("a"), 9_000)).toBe(first);
    expect(observe(first, record("a", "2030-01-01T00:00:02.000000Z"), 9_000).observedAt).toBe(9_000);
  });

  it("counts another holder's lease as valid for its duration since we saw it change, whatever its renewTime says", () => {
    // renewTime is far in the past by any wall clock; only our observation counts.
    const seen = observe(undefined, record("other", "1999-01-01T00:00:00.000000Z"), 50_000);
    expect(heldByOther(seen, "me", 50_000)).toBe(true);
    expect(heldByOther(seen, "me", 64_999)).toBe(true);
    expect(heldByOther(seen, "me", 65_000)).toBe(false);
    // A renewal we saw restarts the wait.
    const renewed = observe(seen, record("other", "1999-01-01T00:00:02.000000Z"), 60_000);
    expect(heldByOther(renewed, "me", 65_000)).toBe(true);
  });

  it("never waits for a lease that is ours or has no holder", () => {
    expect(heldByOther(observe(undefined, record("me"), 0), "me", 0)).toBe(false);
    expect(heldByOther(observe(undefined, record(""), 0), "me", 0)).toBe(false);
  });
});

describe("records written", () => {
  const wall = new Date("2031-05-06T07:08:09.123Z");

  it("keeps acquireTime and transitions on renewal, bumps transitions on takeover", () => {
    const mine = record("me");
    expect(acquiredRecord(mine, "me", 15, wall)).toEqual({
      holderIdentity: "me",
      leaseDurationSeconds: 15,
      acquireTime: mine.acquireTime,
      renewTime: "2031-05-06T07:08:09.123000Z",
      leaseTransitions: 3,
    });
    expect(acquiredRecord(record("other"), "me", 15, wall)).toMatchObject({
      acquireTime: "2031-05-06T07:08:09.123000Z",
      leaseTransitions: 4,
    });
    expect(acquiredRecord(undefined, "me", 15, wall).leaseTransitions).toBe(0);
  });

  it("releases with no holder, so the next candidate need not wait", () => {
    const released = releasedRecord(record("me"), wall);
    expect(released).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 3 });
    expect(heldByOther(observe(undefined, released, 0), "next", 0)).toBe(false);
  });

  it("writes MicroTime with six fractional digits", () => {
    expect(microTime(new Date("2031-01-02T03:04:05.006Z"))).toBe("2031-01-02T03:04:05.006000Z");
  });
});
