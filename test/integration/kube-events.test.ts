// The event recorder against a real API server: every field events.k8s.io/v1 requires, notes
// within 1024 bytes, repeats aggregated into one Event's series, expired Events re-created, and
// failures returned instead of thrown.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeApiError } from "../../src/kube/errors.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { EventRecorder, type EventInput, type ObjectRef } from "../../src/kube/events.ts";
import { controlPlane, freshNamespace } from "../harness/kube.ts";

interface ApiEvent {
  metadata: { name: string; namespace: string };
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  type: string;
  note: string;
  regarding: ObjectRef;
  related?: ObjectRef;
  series?: { count: number; lastObservedTime: string };
}

let client: KubeClient;
let ns: string;
let leakWatch: ObjectRef;

beforeAll(async () => {
  client = await KubeClient.load({ kubeconfig: controlPlane().kubeconfigPath });
  ns = await freshNamespace("kube-events");
  const created = await client.create<{ metadata: { uid: string } }>(
    `/apis/leakwatch.dev/v1alpha1/namespaces/${ns}/leakwatches`,
    {
      apiVersion: "leakwatch.dev/v1alpha1",
      kind: "LeakWatch",
      metadata: { name: "checkout" },
      spec: { selector: {} },
    },
  );
  leakWatch = {
    apiVersion: "leakwatch.dev/v1alpha1",
    kind: "LeakWatch",
    namespace: ns,
    name: "checkout",
    uid: created.metadata.uid,
  };
});

afterAll(() => {
  client.close();
});

async function events(reason: string): Promise<ApiEvent[]> {
  const list = await client.get<{ items: ApiEvent[] }>(`/apis/events.k8s.io/v1/namespaces/${ns}/events`);
  return list.items.filter((e) => e.reason === reason);
}

function pod(name: string): ObjectRef {
  return { apiVersion: "v1", kind: "Pod", namespace: ns, name, uid: `uid-${name}` };
}

describe("EventRecorder against the API server", () => {
  it("creates an Event with every required field and a note cut to 1024 UTF-8 bytes", async () => {
    const recorder = new EventRecorder({ client, reportingInstance: "leakwatch-7f9c-abcde" });
    const note = `Heap grows 12 MiB/h (95% confidence). Top growth: ${"main.(*Cache).Put → 漏れ🧠 ".repeat(80)}`;
    const outcome = await recorder.record({
      regarding: pod("checkout-1"),
      related: leakWatch,
      type: "Warning",
      reason: "MemoryLeakDetected",
      action: "Detect",
      note,
    });
    expect(outcome.result).toBe("created");

    const [event, ...others] = await events("MemoryLeakDetected");
    expect(others).toEqual([]);
    expect(event).toMatchObject({
      reportingController: "leakwatch.dev/controller",
      reportingInstance: "leakwatch-7f9c-abcde",
      action: "Detect",
      type: "Warning",
      regarding: pod("checkout-1"),
      related: leakWatch,
    });
    expect(event?.metadata.name).toMatch(/^checkout-1\.[0-9a-f]{16}$/);
    expect(event?.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const stored = event?.note ?? "";
    expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(1024);
    expect(Buffer.byteLength(stored)).toBeGreaterThan(1000);
    expect(stored.endsWith("…")).toBe(true);
    expect(note.startsWith(stored.slice(0, -1))).toBe(true);
  });

  it("turns repeats into a series on one Event, rate-limited, flushed on the next write", async () => {
    const clock = { now: Date.now() };
    const recorder = new EventRecorder({
      client,
      reportingInstance: "leakwatch-0",
      now: () => clock.now,
      minWriteIntervalMs: 5 * 60_000,
    });
    const input: EventInput = {
      regarding: pod("checkout-2"),
      type: "Normal",
      reason: "MemoryLeakSuspected",
      action: "Detect",
      note: "heap growth seen; not yet proven",
    };
    expect((await recorder.record(input)).result).toBe("created");
    for (let i = 0; i < 3; i++) {
      clock.now += 1_000;
      expect((await recorder.record(input)).result).toBe("aggregated");
    }
    expect((await events("MemoryLeakSuspected"))[0]?.series).toBeUndefined();

    clock.now += 5 * 60_000;
    expect(await recorder.record(input)).toMatchObject({ result: "series-updated", count: 5 });
    clock.now += 1_000;
    await recorder.record(input);
    expect(await recorder.flush({ force: true })).toMatchObject([{ result: "series-updated", count: 6 }]);

    const stored = await events("MemoryLeakSuspected");
    expect(stored).toHaveLength(1);
    expect(stored[0]?.series?.count).toBe(6);
    expect(Date.parse(stored[0]?.series?.lastObservedTime ?? "")).toBe(clock.now);
    expect(stored[0]?.note).toBe(input.note);
  });

  it("creates a new Event when the one it would patch has expired", async () => {
    const clock = { now: Date.now() };
    const recorder = new EventRecorder({ client, reportingInstance: "leakwatch-0", now: () => clock.now });
    const input: EventInput = {
      regarding: pod("checkout-3"),
      type: "Warning",
      reason: "ScrapeFailing",
      action: "Scrape",
      note: "connection refused",
    };
    const first = await recorder.record(input);
    // What the event TTL does after an hour.
    await client.delete(`/apis/events.k8s.io/v1/namespaces/${ns}/events/${first.name}`);
    clock.now += 6 * 60_000;
    const second = await recorder.record(input);
    expect(second).toMatchObject({ result: "created", count: 2 });

    const stored = await events("ScrapeFailing");
    expect(stored.map((e) => e.metadata.name)).toEqual([second.name]);
    expect(stored[0]?.series?.count).toBe(2);
  });

  it("returns API failures instead of throwing, and counts them", async () => {
    const recorder = new EventRecorder({ client, reportingInstance: "leakwatch-0" });
    const outcome = await recorder.record({
      regarding: { ...pod("x"), namespace: "no-such-namespace-here" },
      type: "Normal",
      reason: "LeakResolved",
      action: "Detect",
      note: "",
    });
    expect(outcome.result).toBe("failed");
    expect(
      outcome.result === "failed" && outcome.error instanceof KubeApiError && outcome.error.notFound,
    ).toBe(true);
    expect(recorder.counters.failed).toBe(1);
  });
});
