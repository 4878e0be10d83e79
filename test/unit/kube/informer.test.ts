import { PassThrough } from "node:stream";
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import type { RawObject } from "../../../src/kube/cache.ts";
import type { CallOptions, Query } from "../../../src/kube/client.ts";
import { KubeApiError, KubeConnectionError } from "../../../src/kube/errors.ts";
import {
  Informer,
  informerUnhealthyReason,
  type InformerOptions,
  type ListWatchClient,
} from "../../../src/kube/informer.ts";
import { FakeClock, settle } from "../../harness/fake-clock.ts";

interface Item {
  name: string;
  value: string;
}

function object(name: string, resourceVersion: number, value: string): RawObject {
  return {
    metadata: { namespace: "ns", name, resourceVersion: String(resourceVersion), uid: `uid-${name}` },
    data: { value, big: "x".repeat(100) },
  };
}

/** An API server in memory: paged lists of its objects, and watch streams the test writes to. */
class FakeApi implements ListWatchClient {
  readonly objects = new Map<string, RawObject>();
  resourceVersion = 100;
  readonly lists: Query[] = [];
  readonly listTimes: number[] = [];
  now: () => number = () => 0;
  readonly watches: Query[] = [];
  readonly streams: PassThrough[] = [];
  readonly failures: Error[] = [];

  put(name: string, value: string): RawObject {
    const raw = object(name, ++this.resourceVersion, value);
    this.objects.set(name, raw);
    return raw;
  }

  remove(name: string): RawObject | undefined {
    const raw = this.objects.get(name);
    this.objects.delete(name);
    this.resourceVersion++;
    return raw;
  }

  async get<T>(_path: string, options?: CallOptions): Promise<T> {
    await Promise.resolve();
    const query = options?.query ?? {};
    this.lists.push(query);
    this.listTimes.push(this.now());
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
    const all = [...this.objects.values()];
    const start = Number(query.continue ?? 0);
    const limit = Number(query.limit ?? all.length);
    const end = start + limit;
    return JSON.parse(
      JSON.stringify({
        metadata: {
          resourceVersion: String(this.resourceVersion),
          continue: end < all.length ? String(end) : "",
        },
        items: all.slice(start, end),
      }),
    ) as T;
  }

  async stream(_path: string, options?: { query?: Query; signal?: AbortSignal }): Promise<IncomingMessage> {
    await Promise.resolve();
    this.watches.push(options?.query ?? {});
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
    const stream = new PassThrough();
    options?.signal?.addEventListener("abort", () => stream.destroy(new Error("aborted")), { once: true });
    this.streams.push(stream);
    return stream as unknown as IncomingMessage;
  }

  get current(): PassThrough {
    const stream = this.streams.at(-1);
    if (stream === undefined) throw new Error("no watch open");
    return stream;
  }

  send(type: string, raw: RawObject | object): void {
    this.current.write(`${JSON.stringify({ type, object: raw })}\n`);
  }
}

function setup(options: Partial<InformerOptions<Item>> = {}) {
  const api = new FakeApi();
  const clock = new FakeClock();
  api.now = () => clock.now();
  const seen: string[] = [];
  const informer = new Informer<Item>({
    client: api,
    path: "/api/v1/namespaces/ns/configmaps",
    trim: (raw) => ({ name: raw.metadata?.name ?? "", value: (raw.data as { value: string }).value }),
    clock,
    random: () => 0.5,
    pageSize: 2,
    ...options,
  });
  informer.on("add", (o, key) => void seen.push(`add ${key} ${o.value}`));
  informer.on("update", (o, old, key) => void seen.push(`update ${key} ${old.value}->${o.value}`));
  informer.on("delete", (o, key) => void seen.push(`delete ${key} ${o.value}`));
  return { api, clock, seen, informer };
}

describe("Informer", () => {
  it("lists every page, caches trimmed objects, then watches from the list's resourceVersion", async () => {
    const { api, clock, seen, informer } = setup();
    for (const name of ["a", "b", "c", "d", "e"]) api.put(name, `${name}1`);
    informer.start();
    await informer.waitForSync();
    await clock.advance(0);
    expect(api.lists.map((q) => q.continue)).toEqual([undefined, "2", "4"]);
    expect(seen).toEqual(["add ns/a a1", "add ns/b b1", "add ns/c c1", "add ns/d d1", "add ns/e e1"]);
    expect(informer.get("ns/c")).toEqual({ name: "c", value: "c1" }); // trimmed: no metadata, no big field
    expect(informer.list()).toHaveLength(5);
    expect(api.watches[0]).toMatchObject({ watch: true, resourceVersion: "105", allowWatchBookmarks: true });
    expect(informer.health()).toMatchObject({ synced: true, watching: true, restarts: 0, relists: 1 });
    await informer.stop();
  });

  it("turns watch events into notifications and resumes from the last event or bookmark", async () => {
    const { api, clock, seen, informer } = setup();
    api.put("a", "a1");
    informer.start();
    await clock.advance(0);
    api.send("ADDED", api.put("b", "b1"));
    api.send("MODIFIED", api.put("a", "a2"));
    api.send("MODIFIED", api.objects.get("a") ?? {}); // a replay at the same version changes nothing
    api.send("DELETED", api.remove("b") ?? {});
    api.send("BOOKMARK", { metadata: { resourceVersion: "200" } });
    await clock.advance(0);
    expect(seen).toEqual(["add ns/a a1", "add ns/b b1", "update ns/a a1->a2", "delete ns/b b1"]);
    api.current.end(); // the server ends the watch early: back off, then resume from the bookmark
    await clock.advance(1_000);
    expect(api.watches.map((q) => q.resourceVersion)).toEqual(["101", "200"]);
    expect(api.lists).toHaveLength(1);
    await informer.stop();
  });

  it("on 410 Expired lists again and notifies what changed meanwhile, deletes included", async () => {
    const { api, clock, seen, informer } = setup();
    api.put("a", "a1");
    api.put("b", "b1");
    api.put("c", "c1");
    informer.start();
    await clock.advance(0);
    api.remove("b");
    api.put("c", "c2");
    api.put("d", "d1");
    api.send("ERROR", { kind: "Status", code: 410, reason: "Expired", message: "too old resource version" });
    await clock.advance(0);
    expect(seen.slice(3)).toEqual(["update ns/c c1->c2", "add ns/d d1", "delete ns/b b1"]);
    expect(informer.health()).toMatchObject({ relists: 2, restarts: 1, lastError: { code: "LW_KUBE_API" } });
    expect(api.watches.at(-1)?.resourceVersion).toBe(String(api.resourceVersion));
    await informer.stop();
  });

  it("restarts the watch from the last good event on a line it cannot read, without relisting", async () => {
    const { api, clock, seen, informer } = setup();
    informer.start();
    await clock.advance(0);
    api.send("ADDED", api.put("a", "a1"));
    api.current.write("{not json\n");
    await clock.advance(1_000);
    expect(informer.health()).toMatchObject({
      restarts: 1,
      relists: 1,
      lastError: { code: "LW_KUBE_WATCH" },
    });
    expect(api.watches.map((q) => q.resourceVersion)).toEqual(["100", "101"]);
    api.send("MODIFIED", api.put("a", "a2"));
    await clock.advance(0);
    expect(seen).toEqual(["add ns/a a1", "update ns/a a1->a2"]);
    await informer.stop();
  });

  it("treats an event line over maxEventBytes as an error, not as memory to fill", async () => {
    const { api, clock, informer } = setup({ maxEventBytes: 1024 });
    informer.start();
    await clock.advance(0);
    api.current.write(`{"type":"ADDED","object":{"data":"${"x".repeat(4096)}`);
    await clock.advance(0);
    expect(informer.health().lastError?.message).toMatch(/larger than 1024 bytes/);
    await clock.advance(1_000);
    expect(api.watches).toHaveLength(2);
    await informer.stop();
  });

  it("keeps handler exceptions (sync and async) away from the watch loop", async () => {
    const { api, clock, seen, informer } = setup();
    informer.on("add", () => {
      throw new Error("handler bug");
    });
    informer.on("add", async () => {
      await Promise.resolve();
      throw new Error("async handler bug");
    });
    informer.start();
    await clock.advance(0);
    api.send("ADDED", api.put("a", "a1"));
    api.send("ADDED", api.put("b", "b1"));
    await clock.advance(0);
    expect(seen).toEqual(["add ns/a a1", "add ns/b b1"]);
    expect(informer.health()).toMatchObject({ handlerErrors: 4, restarts: 0, watching: true });
    await informer.stop();
  });

  it("restarts a watch that stays silent for idleTimeoutMs; any byte, bookmarks included, keeps it alive", async () => {
    const { api, clock, informer } = setup({ idleTimeoutMs: 10_000 });
    informer.start();
    await clock.advance(0);
    await clock.advance(9_000);
    api.send("BOOKMARK", { metadata: { resourceVersion: "150" } });
    await clock.advance(9_000);
    expect(api.watches).toHaveLength(1);
    await clock.advance(1_000); // 10 s since the bookmark
    expect(informer.health()).toMatchObject({ restarts: 1, lastError: { code: "LW_KUBE_WATCH" } });
    expect(informer.health().lastError?.message).toMatch(/nothing received for 10000 ms/);
    await clock.advance(1_000);
    expect(api.watches.map((q) => q.resourceVersion)).toEqual(["100", "150"]);
    expect(api.lists).toHaveLength(1);
    await informer.stop();
  });

  it("backs off exponentially with full jitter on repeated failures, capped, and resets after a healthy spell", async () => {
    const { api, clock, informer } = setup({
      random: () => 0.999,
      backoff: { initialMs: 1_000, maxMs: 8_000, resetAfterMs: 60_000 },
    });
    for (let i = 0; i < 6; i++) api.failures.push(new KubeConnectionError("connection refused"));
    informer.start();
    await clock.advance(40_000);
    const listTimes = api.listTimes;
    const gaps = listTimes.slice(1).map((t, i) => t - (listTimes[i] ?? 0));
    // windows of 1, 2, 4, 8, 8, 8 s, each × random() = 0.999
    expect(gaps).toEqual([999, 1_998, 3_996, 7_992, 7_992, 7_992]);
    expect(informer.health()).toMatchObject({ synced: true, restarts: 6 });

    await clock.advance(60_000); // a healthy minute of watching
    api.current.destroy(new Error("connection reset"));
    await clock.advance(998);
    expect(api.watches).toHaveLength(1);
    await clock.advance(1);
    expect(api.watches).toHaveLength(2); // back to the first window (999 ms), not the last (7992 ms)
    await informer.stop();
  });

  it("relists on schedule (resync), notifying only real differences", async () => {
    const { api, clock, seen, informer } = setup({ resyncMs: 60_000, idleTimeoutMs: 1_000_000 });
    api.put("a", "a1");
    api.put("b", "b1");
    informer.start();
    await clock.advance(0);
    api.put("b", "b2"); // changed behind the watch's back
    await clock.advance(60_000); // random 0.5: exactly the base period
    expect(api.lists).toHaveLength(2);
    expect(seen).toEqual(["add ns/a a1", "add ns/b b1", "update ns/b b1->b2"]);
    expect(informer.health()).toMatchObject({ restarts: 0, relists: 2, watching: true });
    await informer.stop();
  });

  it("caches quietly an update that only touched fields the trim drops", async () => {
    const { api, clock, seen, informer } = setup({ same: (a, b) => a.value === b.value });
    api.put("a", "a1");
    informer.start();
    await clock.advance(0);
    const raw = api.put("a", "a1"); // new resourceVersion, same trimmed value
    api.send("MODIFIED", raw);
    api.send("MODIFIED", api.put("a", "a2"));
    await clock.advance(0);
    expect(seen).toEqual(["add ns/a a1", "update ns/a a1->a2"]);
    await informer.stop();
  });

  it("skips objects whose trim throws, and reports it", async () => {
    const { api, clock, informer } = setup({
      trim: (raw) => {
        if (raw.metadata?.name === "bad") throw new Error("cannot trim");
        return { name: raw.metadata?.name ?? "", value: "ok" };
      },
    });
    api.put("bad", "x");
    api.put("good", "y");
    informer.start();
    await clock.advance(0);
    expect(informer.list()).toEqual([{ name: "good", value: "ok" }]);
    expect(informer.health().handlerErrors).toBe(1);
    await informer.stop();
  });

  it("waitForSync rejects when its signal aborts, or when the informer stops before syncing", async () => {
    const { api, clock, informer } = setup();
    for (let i = 0; i < 100; i++)
      api.failures.push(
        new KubeApiError({ status: 403, reason: "Forbidden", message: "no", method: "GET", path: "/" }),
      );
    informer.start();
    const controller = new AbortController();
    const waiting = informer.waitForSync(controller.signal);
    controller.abort(new Error("gave up"));
    await expect(waiting).rejects.toThrow("gave up");
    const waiting2 = informer.waitForSync();
    await clock.advance(5_000);
    await informer.stop();
    await expect(waiting2).rejects.toThrow(/not running/);
    expect(informer.synced).toBe(false);
  });

  it("reports a watch that has been down too long as unhealthy", async () => {
    const { api, clock, informer } = setup();
    informer.start();
    await clock.advance(0);
    const healthy = informer.health();
    expect(informerUnhealthyReason(healthy, clock.now(), 30_000)).toBeUndefined();
    for (let i = 0; i < 100; i++) api.failures.push(new KubeConnectionError("connect ECONNREFUSED"));
    api.current.destroy(new Error("reset"));
    await clock.advance(29_000);
    expect(informerUnhealthyReason(informer.health(), clock.now(), 30_000)).toBeUndefined();
    await clock.advance(2_000);
    expect(informerUnhealthyReason(informer.health(), clock.now(), 30_000)).toMatch(
      /^watch down for 3\d s: .*ECONNREFUSED/,
    );
    await informer.stop();
    await settle();
  });
});
