import { describe, expect, it } from "vitest";
import type { CallOptions } from "../../../src/kube/client.ts";
import { KubeApiError, KubeConnectionError } from "../../../src/kube/errors.ts";
import type { LeaseSpec } from "../../../src/kube/lease-record.ts";
import { LeaderElector, LeaseConfigError, leaseIdentity, type LeaseClient } from "../../../src/kube/lease.ts";
import { FakeClock } from "../../harness/fake-clock.ts";

interface StoredLease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** One Lease in memory with optimistic concurrency; each replica's client can be cut off. */
class FakeLeaseApi {
  lease: StoredLease | undefined;
  private version = 0;
  readonly cutOff = new Set<string>();
  readonly timeouts: (number | undefined)[] = [];

  clientFor(replica: string): LeaseClient {
    const check = (options?: CallOptions): void => {
      this.timeouts.push(options?.timeoutMs);
      if (this.cutOff.has(replica)) throw new KubeConnectionError(`${replica}: connection timed out`);
    };
    const copy = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
    const api = (status: number, reason: string): KubeApiError =>
      new KubeApiError({ status, reason, message: reason, method: "X", path: "/lease" });
    return {
      get: async <T>(_path: string, options?: CallOptions): Promise<T> => {
        await Promise.resolve();
        check(options);
        if (this.lease === undefined) throw api(404, "NotFound");
        return copy(this.lease) as T;
      },
      create: async <T>(_path: string, body: unknown, options?: CallOptions): Promise<T> => {
        await Promise.resolve();
        check(options);
        if (this.lease !== undefined) throw api(409, "AlreadyExists");
        this.store(body as StoredLease);
        return copy(this.lease) as T;
      },
      replace: async <T>(_path: string, body: unknown, options?: CallOptions): Promise<T> => {
        await Promise.resolve();
        check(options);
        const next = body as StoredLease;
        if (next.metadata.resourceVersion !== this.lease?.metadata.resourceVersion)
          throw api(409, "Conflict");
        this.store(next);
        return copy(this.lease) as T;
      },
    };
  }

  /** Someone else writes the Lease (kubectl, another elector implementation). */
  overwrite(spec: LeaseSpec): void {
    if (this.lease === undefined) throw new Error("no lease");
    this.store({ ...this.lease, spec: { ...this.lease.spec, ...spec } });
  }

  get holder(): string | null | undefined {
    return this.lease?.spec?.holderIdentity;
  }

  private store(lease: StoredLease): void {
    this.lease = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.version) } };
  }
}

function cluster() {
  const clock = new FakeClock();
  const api = new FakeLeaseApi();
  const timeline: string[] = [];
  const at = (): string => `${(clock.now() - 1_000_000) / 1000}s`;
  const electors = new Map<string, LeaderElector>();
  const signals = new Map<string, AbortSignal>();
  const candidate = (
    id: string,
    work: (signal: AbortSignal) => void | Promise<void> = () => undefined,
  ): LeaderElector => {
    const elector = new LeaderElector({
      client: api.clientFor(id),
      namespace: "leakwatch-system",
      name: "leakwatch",
      identity: id,
      clock,
      wallClock: () => new Date(clock.now()),
      random: () => 0,
      onStartedLeading: (signal) => {
        timeline.push(`${at()} ${id} started`);
        signals.set(id, signal);
        return work(signal);
      },
      onStoppedLeading: () => timeline.push(`${at()} ${id} stopped`),
      onNewLeader: (leader) => timeline.push(`${at()} ${id} sees ${leader}`),
    });
    electors.set(id, elector);
    return elector;
  };
  const leaders = (): string[] => [...electors].filter(([, e]) => e.isLeader).map(([id]) => id);
  return { clock, api, timeline, candidate, leaders, signals };
}

describe("LeaderElector", () => {
  it("elects exactly one of two candidates; the leader renews, the other stands by", async () => {
    const { clock, api, timeline, candidate, leaders } = cluster();
    const a = candidate("a");
    const b = candidate("b");
    a.start();
    await clock.advance(100);
    b.start();
    const renewTimes = new Set<string>();
    for (let t = 0; t < 60_000; t += 500) {
      await clock.advance(500);
      expect(leaders()).toEqual(["a"]);
      renewTimes.add(api.lease?.spec?.renewTime ?? "");
    }
    expect(b.leader).toBe("a");
    expect(api.lease?.spec?.leaseTransitions).toBe(0);
    expect(renewTimes.size).toBeGreaterThanOrEqual(29); // every 2 s for a minute
    expect(timeline).toEqual(["0s a sees a", "0s a started", "0.1s b sees a"]);
    await a.stop();
    await b.stop();
  });

  it("two candidates racing to create the Lease: the loser learns the winner at once", async () => {
    const { clock, timeline, candidate, leaders } = cluster();
    const a = candidate("a");
    const b = candidate("b");
    a.start();
    b.start();
    await clock.advance(0);
    expect(leaders()).toEqual(["a"]);
    expect(timeline).toEqual(["0s a sees a", "0s a started", "0s b sees a"]);
    await a.stop();
    await b.stop();
  });

  it("bounds every API call by max(renewDeadline / 2, 1 s)", async () => {
    const { clock, api, candidate } = cluster();
    const a = candidate("a");
    a.start();
    await clock.advance(10_000);
    await a.stop();
    expect(api.timeouts.length).toBeGreaterThan(3);
    expect(new Set(api.timeouts)).toEqual(new Set([5_000]));
  });

  it("a leader that cannot renew stops at its renew deadline, before anyone else may start", async () => {
    const { clock, api, timeline, candidate, leaders, signals } = cluster();
    const a = candidate("a");
    const b = candidate("b");
    a.start();
    await clock.advance(100);
    b.start();
    await clock.advance(5_900); // a renewed at 2 s, 4 s and 6 s
    api.cutOff.add("a");
    await clock.advance(60_000);
    expect(leaders()).toEqual(["b"]);
    expect(signals.get("a")?.aborted).toBe(true);
    expect(timeline).toEqual([
      "0s a sees a",
      "0s a started",
      "0.1s b sees a",
      // last good renewal started at 6 s: a gives up at 16 s …
      "16s a stopped",
      // … b last saw the lease change at 6.1 s and waits 15 s from then (and its next 2 s poll).
      "22.1s b sees b",
      "22.1s b started",
    ]);
    api.cutOff.delete("a");
    await clock.advance(10_000);
    expect(leaders()).toEqual(["b"]); // a came back and stands by
    expect(a.leader).toBe("b");
    await a.stop();
    await b.stop();
  });

  it("release() ends the work first, then hands the lease over at the other's next try", async () => {
    const { clock, api, timeline, candidate, leaders } = cluster();
    let holderWhenWorkEnded: string | null | undefined;
    const a = candidate("a", async (signal) => {
      await new Promise<void>((resolveAbort) => {
        signal.addEventListener("abort", () => {
          resolveAbort();
        });
      });
      await clock.advance(0); // let the elector see the abort before we finish
      timeline.push("a work ended");
      holderWhenWorkEnded = api.holder;
    });
    const b = candidate("b");
    a.start();
    await clock.advance(100);
    b.start();
    await clock.advance(10_000);
    const releasing = a.release();
    await clock.advance(0);
    await releasing;
    expect(holderWhenWorkEnded).toBe("a");
    expect(api.holder).toBe("");
    await clock.advance(2_000);
    expect(leaders()).toEqual(["b"]);
    expect(timeline.slice(3)).toEqual([
      "10.1s a stopped",
      "a work ended",
      "12.1s b sees b",
      "12.1s b started",
    ]);
    expect(api.lease?.spec?.leaseTransitions).toBe(1);
    await b.stop();
  });

  it("stop() without release leaves the lease to expire: the other waits the full lease duration", async () => {
    const { clock, timeline, candidate, leaders } = cluster();
    const a = candidate("a");
    const b = candidate("b");
    a.start();
    await clock.advance(100);
    b.start();
    await clock.advance(9_900); // a's last renewal at 10 s
    await a.stop();
    await clock.advance(30_000);
    expect(leaders()).toEqual(["b"]);
    expect(timeline.at(-1)).toBe("26.1s b started"); // saw the 10 s renewal at 10.1 s, + 15 s, at its next poll
    await b.stop();
  });

  it("stops leading as soon as it sees the lease taken by someone else", async () => {
    const { clock, api, timeline, candidate, signals } = cluster();
    const a = candidate("a");
    a.start();
    await clock.advance(1_000);
    api.overwrite({ holderIdentity: "intruder", renewTime: "2030-01-01T00:00:00.000000Z" });
    await clock.advance(4_000);
    expect(a.isLeader).toBe(false);
    expect(timeline).toEqual(["0s a sees a", "0s a started", "4s a sees intruder", "4s a stopped"]);
    expect(String(signals.get("a")?.reason)).toMatch(/taken by intruder/);
    await a.stop();
  });

  it("refuses bad timings at construction and makes unique identities", () => {
    const { api } = cluster();
    expect(
      () =>
        new LeaderElector({
          client: api.clientFor("x"),
          namespace: "n",
          name: "l",
          identity: "x",
          renewDeadlineMs: 20_000,
          onStartedLeading: () => undefined,
        }),
    ).toThrow(LeaseConfigError);
    const ids = new Set(Array.from({ length: 50 }, () => leaseIdentity("leakwatch-7d9f")));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^leakwatch-7d9f_[0-9a-f]{8}$/);
  });
});
