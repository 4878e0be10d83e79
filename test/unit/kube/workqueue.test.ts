import { describe, expect, it } from "vitest";
import { KubeApiError } from "../../../src/kube/errors.ts";
import {
  ReconcileAbortedError,
  TerminalError,
  WorkQueue,
  done,
  requeueAfter,
  retryPolicy,
  type ReconcileContext,
  type ReconcileResult,
  type WorkQueueOptions,
} from "../../../src/kube/workqueue.ts";
import { FakeClock } from "../../harness/fake-clock.ts";

interface Call {
  key: string;
  at: number;
  context: ReconcileContext;
  finish: (result?: ReconcileResult) => void;
  fail: (err: unknown) => void;
}

/** A queue whose reconciles wait until the test finishes them, so overlap and order are visible. */
function harness(options: Partial<WorkQueueOptions> = {}) {
  const clock = new FakeClock();
  const calls: Call[] = [];
  let running = 0;
  let maxRunning = 0;
  const runningKeys = new Set<string>();
  let overlapped = false;
  const logs: { level: string; msg: string; obj: object }[] = [];
  const log =
    (level: string) =>
    (obj: object, msg: string): void => {
      logs.push({ level, msg, obj });
    };
  const queue = new WorkQueue({
    clock,
    random: () => 1,
    logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    reconcile: async (key, context) => {
      if (runningKeys.has(key)) overlapped = true;
      runningKeys.add(key);
      running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        return await new Promise<ReconcileResult>((resolveRun, rejectRun) => {
          calls.push({
            key,
            at: clock.now(),
            context,
            finish: (result = done()) => {
              resolveRun(result);
            },
            fail: rejectRun,
          });
        });
      } finally {
        running--;
        runningKeys.delete(key);
      }
    },
    ...options,
  });
  const open = (key: string): Call[] => calls.filter((c) => c.key === key);
  return {
    clock,
    calls,
    queue,
    logs,
    open,
    get maxRunning() {
      return maxRunning;
    },
    get overlapped() {
      return overlapped;
    },
  };
}

describe("WorkQueue", () => {
  it("runs a key once however often it is added while queued", async () => {
    const h = harness();
    h.queue.add("blocker");
    for (let i = 0; i < 5; i++) h.queue.add("a");
    expect(h.queue.depth).toBe(1);
    await h.clock.advance(0);
    h.calls[0]?.finish();
    await h.clock.advance(0);
    expect(h.calls.map((c) => c.key)).toEqual(["blocker", "a"]);
    h.calls[1]?.finish();
    await h.clock.advance(10_000);
    expect(h.calls).toHaveLength(2);
  });

  it("never runs one key twice at once; adds during a run give exactly one more run after it", async () => {
    const h = harness({ concurrency: 4 });
    h.queue.add("a");
    await h.clock.advance(0);
    for (let i = 0; i < 3; i++) h.queue.add("a");
    await h.clock.advance(0);
    expect(h.open("a")).toHaveLength(1);
    expect(h.queue.active).toBe(1);
    h.calls[0]?.finish();
    await h.clock.advance(0);
    expect(h.open("a")).toHaveLength(2);
    h.calls[1]?.finish();
    await h.clock.advance(60_000);
    expect(h.open("a")).toHaveLength(2);
    expect(h.overlapped).toBe(false);
  });

  it("runs at most `concurrency` keys at once, in the order they were added", async () => {
    const h = harness({ concurrency: 2 });
    for (const key of ["a", "b", "c", "d", "e"]) h.queue.add(key);
    await h.clock.advance(0);
    expect(h.calls.map((c) => c.key)).toEqual(["a", "b"]);
    expect(h.queue.depth).toBe(3);
    h.calls[1]?.finish();
    await h.clock.advance(0);
    h.calls[0]?.finish();
    await h.clock.advance(0);
    expect(h.calls.map((c) => c.key)).toEqual(["a", "b", "c", "d"]);
    for (const call of h.calls.slice(2)) call.finish();
    await h.clock.advance(0);
    h.calls[4]?.finish();
    await h.clock.advance(0);
    expect(h.maxRunning).toBe(2);
    expect(h.calls.map((c) => c.key)).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("retries a failing key after a growing, capped backoff, and a success resets it", async () => {
    const h = harness(); // random() = 1: each delay is the top of its window
    h.queue.add("a");
    const expected = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000];
    const gaps: number[] = [];
    for (let attempt = 0; attempt <= expected.length; attempt++) {
      await h.clock.advance(attempt === 0 ? 0 : (expected[attempt - 1] ?? 0) - 1);
      expect(h.calls).toHaveLength(attempt === 0 ? 1 : attempt); // not a millisecond early
      if (attempt > 0) await h.clock.advance(1);
      const call = h.calls[attempt];
      if (call === undefined) throw new Error(`no run ${attempt}`);
      if (attempt > 0) gaps.push(call.at - (h.calls[attempt - 1]?.at ?? 0));
      expect(call.context.failures).toBe(attempt);
      if (attempt < expected.length) call.fail(new Error("boom"));
      else call.finish();
      await h.clock.advance(0);
    }
    expect(gaps).toEqual(expected);
    expect(h.queue.failuresOf("a")).toBe(0);
    expect(h.logs.filter((l) => l.level === "warn")).toHaveLength(expected.length);
  });

  it("backs off with jitter inside [window/2, window]", () => {
    for (const r of [0, 0.3, 0.999]) {
      for (let attempt = 1; attempt <= 12; attempt++) {
        const decision = retryPolicy(new Error("x"), attempt, { initialMs: 1_000, maxMs: 300_000 }, () => r);
        if (decision === "terminal") throw new Error("unexpected terminal");
        const window = Math.min(300_000, 1_000 * 2 ** (attempt - 1));
        expect(decision.retryAfterMs).toBeGreaterThanOrEqual(window / 2);
        expect(decision.retryAfterMs).toBeLessThanOrEqual(window);
      }
    }
  });

  it("waits at least as long as the API server's Retry-After", () => {
    const throttled = new KubeApiError({
      status: 429,
      reason: "TooManyRequests",
      message: "slow down",
      method: "PATCH",
      path: "/x",
      retryAfterSeconds: 20,
    });
    expect(retryPolicy(throttled, 1, undefined, () => 1)).toEqual({ retryAfterMs: 20_000 });
  });

  it("revisits a key after requeueAfter, not before, and treats it as success", async () => {
    const h = harness();
    h.queue.add("a");
    await h.clock.advance(0);
    h.calls[0]?.fail(new Error("first try fails"));
    await h.clock.advance(1_000);
    expect(h.calls[1]?.context.failures).toBe(1);
    h.calls[1]?.finish(requeueAfter(30_000));
    await h.clock.advance(29_999);
    expect(h.calls).toHaveLength(2);
    await h.clock.advance(1);
    expect(h.calls).toHaveLength(3);
    expect(h.calls[2]?.context.failures).toBe(0);
  });

  it("keeps the earliest of several delayed adds of one key", async () => {
    const h = harness();
    h.queue.addAfter("a", 5_000);
    h.queue.addAfter("a", 60_000);
    h.queue.addAfter("a", 2_000);
    expect(h.queue.scheduled).toBe(1);
    await h.clock.advance(2_000);
    expect(h.calls.map((c) => c.at - 1_000_000)).toEqual([2_000]);
    h.calls[0]?.finish();
    await h.clock.advance(100_000);
    expect(h.calls).toHaveLength(1);
  });

  it("logs a terminal error and does not retry it", async () => {
    const h = harness();
    h.queue.add("a");
    await h.clock.advance(0);
    h.calls[0]?.fail(new TerminalError("spec.selector is invalid"));
    await h.clock.advance(3_600_000);
    expect(h.calls).toHaveLength(1);
    expect(h.logs.find((l) => l.level === "error")?.obj).toMatchObject({
      key: "a",
      err: "spec.selector is invalid",
    });
  });

  it("accepts a custom retry policy", async () => {
    const h = harness({
      retryPolicy: (err) => (err instanceof RangeError ? "terminal" : { retryAfterMs: 7 }),
    });
    h.queue.add("a");
    await h.clock.advance(0);
    h.calls[0]?.fail(new Error("transient"));
    await h.clock.advance(7);
    expect(h.calls).toHaveLength(2);
    h.calls[1]?.fail(new RangeError("bad"));
    await h.clock.advance(60_000);
    expect(h.calls).toHaveLength(2);
  });

  it("turns a synchronous throw into a retried error", async () => {
    const clock = new FakeClock();
    let runs = 0;
    const queue = new WorkQueue({
      clock,
      random: () => 1,
      reconcile: () => {
        runs++;
        if (runs === 1) throw new Error("sync throw");
        return done();
      },
    });
    queue.add("a");
    await clock.advance(1_000);
    expect(runs).toBe(2);
    expect(queue.failuresOf("a")).toBe(0);
  });

  it("gives each run a unique id and a signal that aborts at the deadline", async () => {
    const h = harness({ reconcileTimeoutMs: 5_000 });
    h.queue.add("a");
    h.queue.add("b");
    await h.clock.advance(0);
    const [a] = h.calls;
    if (a === undefined) throw new Error("no run");
    await h.clock.advance(4_999);
    expect(a.context.signal.aborted).toBe(false);
    await h.clock.advance(1);
    expect(a.context.signal.reason).toBeInstanceOf(ReconcileAbortedError);
    expect((a.context.signal.reason as ReconcileAbortedError).reason).toBe("deadline");
    a.fail(a.context.signal.reason);
    await h.clock.advance(0);
    h.calls[1]?.finish();
    await h.clock.advance(1_000);
    const ids = h.calls.map((c) => c.context.reconcileId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(h.open("a")).toHaveLength(2); // the timed-out run was retried
  });

  it("reports depth, adds, waits, retries and durations through plain callbacks", async () => {
    const seen: string[] = [];
    const h = harness({
      metrics: {
        depth: (d) => seen.push(`depth ${d}`),
        added: (k) => seen.push(`added ${k}`),
        waited: (k, ms) => seen.push(`waited ${k} ${ms}`),
        retried: (k, ms) => seen.push(`retried ${k} ${ms}`),
        reconciled: (k, outcome, ms) => seen.push(`reconciled ${k} ${outcome} ${ms}`),
      },
    });
    h.queue.add("a");
    await h.clock.advance(0);
    await h.clock.advance(250);
    h.calls[0]?.fail(new Error("x"));
    await h.clock.advance(1_000);
    h.calls[1]?.finish(requeueAfter(10));
    await h.clock.advance(0);
    expect(seen).toEqual([
      "added a",
      "depth 1",
      "depth 0",
      "waited a 0",
      "reconciled a error 250",
      "retried a 1000",
      "added a",
      "depth 1",
      "depth 0",
      "waited a 0",
      "reconciled a requeue 0",
    ]);
  });

  it("a throwing metrics hook does not stall the queue", async () => {
    const h = harness({
      metrics: {
        reconciled: () => {
          throw new Error("metrics broke");
        },
      },
    });
    h.queue.add("a");
    h.queue.add("b");
    await h.clock.advance(0);
    h.calls[0]?.finish();
    await h.clock.advance(0);
    expect(h.calls.map((c) => c.key)).toEqual(["a", "b"]);
  });

  describe("shutdown", () => {
    it("drops queued and delayed keys, lets running ones finish, and ignores later adds", async () => {
      const h = harness({ concurrency: 1 });
      h.queue.add("a");
      h.queue.add("b");
      h.queue.addAfter("c", 1_000);
      await h.clock.advance(0);
      let finished = false;
      const stopped = h.queue.shutdown({ graceMs: 30_000 }).then(() => {
        finished = true;
      });
      h.queue.add("d");
      await h.clock.advance(10_000);
      expect(finished).toBe(false);
      expect(h.calls[0]?.context.signal.aborted).toBe(false);
      h.calls[0]?.finish(requeueAfter(1));
      await stopped;
      await h.clock.advance(60_000);
      expect(h.calls.map((c) => c.key)).toEqual(["a"]);
      expect(h.queue.depth).toBe(0);
      expect(h.queue.scheduled).toBe(0);
    });

    it("aborts runs that outlast the grace period, then waits for them to return", async () => {
      const h = harness({ concurrency: 2 });
      h.queue.add("a");
      h.queue.add("b");
      await h.clock.advance(0);
      let finished = false;
      const stopped = h.queue.shutdown({ graceMs: 5_000 }).then(() => {
        finished = true;
      });
      await h.clock.advance(4_999);
      expect(h.calls.every((c) => !c.context.signal.aborted)).toBe(true);
      await h.clock.advance(1);
      for (const call of h.calls) {
        expect((call.context.signal.reason as ReconcileAbortedError).reason).toBe("shutdown");
      }
      h.calls[0]?.fail(h.calls[0].context.signal.reason);
      await h.clock.advance(0);
      expect(finished).toBe(false);
      h.calls[1]?.finish();
      await stopped;
      expect(h.calls).toHaveLength(2); // the aborted run is not retried
    });
  });

  it("validates its settings", () => {
    const reconcile = (): ReconcileResult => done();
    expect(() => new WorkQueue({ reconcile, concurrency: 0 })).toThrow(RangeError);
    expect(() => new WorkQueue({ reconcile, concurrency: 1.5 })).toThrow(RangeError);
    expect(() => requeueAfter(-1)).toThrow(RangeError);
  });
});
