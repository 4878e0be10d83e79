import { describe, expect, it } from "vitest";
import { KubeApiError, KubeConnectionError } from "../../../src/kube/errors.ts";
import { EventRecorder, buildEvent, eventName, type EventInput } from "../../../src/kube/events.ts";

interface Call {
  verb: "create" | "patch";
  path: string;
  body: Record<string, unknown>;
}

/** A stand-in for the API server's events endpoint: records calls, fails on demand. */
function fakeClient(failNext: (call: Call) => Error | undefined = () => undefined): {
  calls: Call[];
  client: {
    create: <T>(path: string, body: unknown) => Promise<T>;
    patch: <T>(path: string, body: unknown) => Promise<T>;
  };
} {
  const calls: Call[] = [];
  const handle = <T>(verb: Call["verb"], path: string, body: unknown): Promise<T> => {
    const call = { verb, path, body: body as Record<string, unknown> };
    calls.push(call);
    const err = failNext(call);
    return err === undefined ? Promise.resolve({} as T) : Promise.reject(err);
  };
  return {
    calls,
    client: {
      create: (path, body) => handle("create", path, body),
      patch: (path, body) => handle("patch", path, body),
    },
  };
}

const pod = { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "checkout-7d9f-x2k4p", uid: "u-1" };
const input: EventInput = {
  regarding: pod,
  type: "Warning",
  reason: "MemoryLeakDetected",
  action: "Detect",
  note: "heap grows 12 MiB/h",
};

function notFound(path: string): KubeApiError {
  return new KubeApiError({ status: 404, reason: "NotFound", message: "gone", method: "PATCH", path });
}

describe("buildEvent", () => {
  it("fills every field events.k8s.io/v1 requires and cuts the note to 1024 bytes", () => {
    const body = buildEvent(
      { ...input, note: "ü".repeat(2000), related: { ...pod, kind: "LeakWatch", name: "lw" } },
      { name: "n.1", reportingInstance: "leakwatch-0", eventTimeMs: Date.UTC(2025, 0, 1) },
    );
    expect(body).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "n.1", namespace: "shop" },
      eventTime: "2025-01-01T00:00:00.000000Z",
      reportingController: "leakwatch.dev/controller",
      reportingInstance: "leakwatch-0",
      action: "Detect",
      reason: "MemoryLeakDetected",
      type: "Warning",
      regarding: pod,
      related: { kind: "LeakWatch", name: "lw" },
    });
    expect(Buffer.byteLength(body.note)).toBeLessThanOrEqual(1024);
    expect(body.note.endsWith("…")).toBe(true);
    expect(body.series).toBeUndefined();
  });

  it("clips reason and action to 128 bytes", () => {
    const body = buildEvent(
      { ...input, reason: "R".repeat(300), action: "é".repeat(100) },
      { name: "n", reportingInstance: "i", eventTimeMs: 0 },
    );
    expect(body.reason).toBe("R".repeat(128));
    expect(body.action).toBe("é".repeat(64));
  });
});

describe("eventName", () => {
  it("is <regarding>.<16 hex>, unique, and a valid name even for very long objects", () => {
    expect(eventName("checkout")).toMatch(/^checkout\.[0-9a-f]{16}$/);
    expect(eventName("a")).not.toBe(eventName("a"));
    const long = eventName("x".repeat(250));
    expect(long.length).toBeLessThanOrEqual(253);
  });
});

describe("EventRecorder", () => {
  function setup(failNext?: (call: Call) => Error | undefined): {
    recorder: EventRecorder;
    calls: Call[];
    clock: { now: number };
  } {
    const { calls, client } = fakeClient(failNext);
    const clock = { now: Date.UTC(2025, 0, 1) };
    const recorder = new EventRecorder({
      client,
      reportingInstance: "leakwatch-0",
      now: () => clock.now,
      minWriteIntervalMs: 5 * 60_000,
      seriesWindowMs: 30 * 60_000,
    });
    return { recorder, calls, clock };
  }

  it("creates once, counts repeats in memory, and patches the series after the interval", async () => {
    const { recorder, calls, clock } = setup();
    const first = await recorder.record(input);
    expect(first).toMatchObject({ result: "created", count: 1 });
    clock.now += 10_000;
    expect(await recorder.record(input)).toMatchObject({ result: "aggregated", count: 2 });
    expect(await recorder.record({ ...input, note: input.note })).toMatchObject({
      result: "aggregated",
      count: 3,
    });
    expect(calls).toHaveLength(1);

    clock.now += 5 * 60_000;
    const patched = await recorder.record(input);
    expect(patched).toMatchObject({ result: "series-updated", count: 4 });
    expect(calls).toHaveLength(2);
    expect(calls[1]?.verb).toBe("patch");
    expect(calls[1]?.path).toBe(`/apis/events.k8s.io/v1/namespaces/shop/events/${first.name}`);
    expect(calls[1]?.body).toEqual({
      series: { count: 4, lastObservedTime: new Date(clock.now).toISOString().replace("Z", "000Z") },
    });
    expect(recorder.counters).toEqual({ created: 1, seriesUpdated: 1, aggregated: 2, failed: 0 });
  });

  it("flush() writes held-back counts once their interval has passed (or at once with force)", async () => {
    const { recorder, calls, clock } = setup();
    await recorder.record(input);
    clock.now += 1_000;
    await recorder.record(input);
    expect(await recorder.flush()).toEqual([]);
    expect(await recorder.flush({ force: true })).toMatchObject([{ result: "series-updated", count: 2 }]);
    expect(calls.map((c) => c.verb)).toEqual(["create", "patch"]);
    clock.now += 10 * 60_000;
    expect(await recorder.flush()).toEqual([]); // nothing pending
  });

  it("flush() writes what is pending when an event's window closes, then forgets it", async () => {
    const { recorder, calls, clock } = setup();
    await recorder.record(input);
    clock.now += 1_000;
    await recorder.record(input);
    clock.now += 31 * 60_000;
    expect(await recorder.flush()).toMatchObject([{ result: "series-updated", count: 2 }]);
    expect(recorder.size).toBe(0);
    expect(calls.map((c) => c.verb)).toEqual(["create", "patch"]);
  });

  it("keys on regarding, reason, action, type and note (or seriesKey)", async () => {
    const { recorder, calls } = setup();
    await recorder.record(input);
    await recorder.record({ ...input, type: "Normal" });
    await recorder.record({ ...input, reason: "MemoryLeakSuspected" });
    await recorder.record({ ...input, note: "heap grows 13 MiB/h" });
    await recorder.record({ ...input, regarding: { ...pod, name: "other" } });
    expect(calls.filter((c) => c.verb === "create")).toHaveLength(5);

    await recorder.record({ ...input, note: "rate 1", seriesKey: "leak:checkout" });
    expect(await recorder.record({ ...input, note: "rate 2", seriesKey: "leak:checkout" })).toMatchObject({
      result: "aggregated",
    });
  });

  it("starts a new Event when the window has closed", async () => {
    const { recorder, calls, clock } = setup();
    const first = await recorder.record(input);
    clock.now += 31 * 60_000;
    const second = await recorder.record(input);
    expect(second).toMatchObject({ result: "created", count: 1 });
    expect(second.name).not.toBe(first.name);
    expect(calls.map((c) => c.verb)).toEqual(["create", "create"]);
  });

  it("re-creates an Event that expired (404 on patch), carrying the series", async () => {
    const { recorder, calls, clock } = setup((call) =>
      call.verb === "patch" ? notFound(call.path) : undefined,
    );
    const first = await recorder.record(input);
    clock.now += 6 * 60_000;
    const again = await recorder.record(input);
    expect(again).toMatchObject({ result: "created", count: 2 });
    expect(again.name).not.toBe(first.name);
    expect(calls.map((c) => c.verb)).toEqual(["create", "patch", "create"]);
    expect(calls[2]?.body.series).toMatchObject({ count: 2 });
  });

  it("swallows API failures, counts them and returns them; the next record tries again", async () => {
    let fail = true;
    const { recorder, calls } = setup(() => (fail ? new KubeConnectionError("refused") : undefined));
    const outcome = await recorder.record(input);
    expect(outcome.result).toBe("failed");
    expect(outcome.result === "failed" ? outcome.error : undefined).toBeInstanceOf(KubeConnectionError);
    expect(recorder.counters.failed).toBe(1);
    fail = false;
    expect(await recorder.record(input)).toMatchObject({ result: "created" });
    expect(calls).toHaveLength(2);
  });

  it("serialises concurrent repeats: one create, never two", async () => {
    const { recorder, calls } = setup();
    const outcomes = await Promise.all([
      recorder.record(input),
      recorder.record(input),
      recorder.record(input),
    ]);
    expect(outcomes.map((o) => o.result)).toEqual(["created", "aggregated", "aggregated"]);
    expect(calls).toHaveLength(1);
  });

  it("remembers a bounded number of events", async () => {
    const { calls, client } = fakeClient();
    const recorder = new EventRecorder({ client, reportingInstance: "i", maxTracked: 10 });
    for (let i = 0; i < 50; i++) await recorder.record({ ...input, note: `n${i}` });
    expect(recorder.size).toBe(10);
    expect(calls).toHaveLength(50);
  });

  it("refuses a missing or oversized reportingInstance at construction", () => {
    const { client } = fakeClient();
    expect(() => new EventRecorder({ client, reportingInstance: "" })).toThrow(RangeError);
    expect(() => new EventRecorder({ client, reportingInstance: "x".repeat(129) })).toThrow(RangeError);
  });
});
