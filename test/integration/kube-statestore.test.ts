// The detector-state store against a real API server: 5,000 targets of realistic state round-trip
// across shards, only changed shards are written, concurrent writers get a typed conflict, and
// re-sharding (including one that crashes half-way) never loses the committed layout.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, type CallOptions } from "../../src/kube/client.ts";
import type { ConfigMap } from "../../src/kube/configmaps.ts";
import { KubeConnectionError } from "../../src/kube/errors.ts";
import type { LeakWatchOwner } from "../../src/kube/ownership.ts";
import { SHARD_MAX_BYTES } from "../../src/kube/state-shards.ts";
import { StateConflictError, StateStore, type StateClient } from "../../src/kube/statestore.ts";
import { controlPlane, freshNamespace } from "../harness/kube.ts";

let client: KubeClient;

beforeAll(async () => {
  client = await KubeClient.load({ kubeconfig: controlPlane().kubeconfigPath });
});

afterAll(() => {
  client.close();
});

async function leakWatchIn(prefix: string): Promise<LeakWatchOwner> {
  const namespace = await freshNamespace(prefix);
  const created = await client.create<{ metadata: { uid: string } }>(
    `/apis/leakwatch.dev/v1alpha1/namespaces/${namespace}/leakwatches`,
    {
      apiVersion: "leakwatch.dev/v1alpha1",
      kind: "LeakWatch",
      metadata: { name: "checkout" },
      spec: { selector: {} },
    },
  );
  return { namespace, name: "checkout", uid: created.metadata.uid };
}

async function stateObjects(owner: LeakWatchOwner): Promise<ConfigMap[]> {
  const list = await client.get<{ items: ConfigMap[] }>(`/api/v1/namespaces/${owner.namespace}/configmaps`, {
    query: { labelSelector: "app.kubernetes.io/component=state" },
  });
  return list.items;
}

/** Deterministic noise, so a failure reproduces. */
function noise(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * Detector state shaped like src/detect's SeriesState: raw samples of the open block, block and
 * bucket medians, verdict memory and the last assessment — 2–4 KiB of JSON per target.
 */
function detectorState(i: number): string {
  const rand = noise(i + 1);
  const t0 = 1_750_000_000_000 + i * 1_000;
  const points = (n: number, step: number): { t: number[]; heap: number[]; goroutines: number[] } => {
    const t = Array.from({ length: n }, (_, k) => t0 + k * step);
    return {
      t,
      heap: t.map((_, k) => Math.round(180e6 + k * 2.1e5 + rand() * 6e6)),
      goroutines: t.map(() => 280 + Math.floor(rand() * 40)),
    };
  };
  const blocks = 45 + Math.floor(rand() * 15);
  return JSON.stringify({
    version: 1,
    lastT: t0 + 7_200_000,
    segmentStart: t0,
    open: points(2, 60_000),
    blocks: points(blocks, 180_000),
    buckets: points(12 + Math.floor(rand() * 36), 900_000),
    low: null,
    heap: { verdict: "Suspected", tier: null, growingSince: t0 + 1_800_000 },
    goroutines: { verdict: "Healthy", tier: null, growingSince: null },
    carriedHeap: null,
    carriedGoroutines: null,
    oomGrowthStreak: 0,
    last: {
      t: t0 + 7_200_000,
      heap: {
        verdict: "Suspected",
        slopePerHour: 12_582_912 + rand(),
        confidence: rand(),
        reasons: ["growth of 12 MiB/h over 90 min", "not yet held for a full load cycle"],
      },
    },
  });
}

function fleet(n: number, version = 0): Map<string, string> {
  return new Map(
    Array.from({ length: n }, (_, i) => [
      `checkout-7d9f8c6b5-${i.toString(36).padStart(5, "0")}/app`,
      detectorState(i + version),
    ]),
  );
}

describe("StateStore against the API server", () => {
  it("round-trips 5,000 targets across shards, each under the size limit, owned by the LeakWatch", async () => {
    const owner = await leakWatchIn("state-5k");
    const entries = fleet(5000);
    const sizes = [...entries.values()].map((v) => v.length);
    expect(Math.min(...sizes)).toBeGreaterThan(2 * 1024);
    expect(Math.max(...sizes)).toBeLessThan(4 * 1024);

    const saved = await new StateStore({ client, owner }).save(entries);
    expect(saved.shards).toBeGreaterThanOrEqual(8);
    expect(saved.written).toBe(saved.shards);

    const objects = await stateObjects(owner);
    const shards = objects.filter((o) => o.metadata.labels?.["leakwatch.dev/state-shards"] !== undefined);
    expect(shards).toHaveLength(saved.shards);
    expect(objects.find((o) => o.metadata.name === "lw-checkout-state")?.data).toEqual({
      shards: String(saved.shards),
    });
    for (const o of objects) {
      expect(o.metadata.ownerReferences?.[0]).toMatchObject({ kind: "LeakWatch", uid: owner.uid });
    }
    for (const shard of shards) {
      expect(Buffer.from(shard.binaryData?.["state.json.gz"] ?? "", "base64").length).toBeLessThanOrEqual(
        SHARD_MAX_BYTES,
      );
    }

    const loaded = await new StateStore({ client, owner }).load();
    expect(loaded.damaged).toEqual([]);
    expect(loaded.shards).toBe(saved.shards);
    expect(loaded.entries.size).toBe(5000);
    expect(loaded.entries).toEqual(entries);
  });

  it("writes only the shards whose content changed", async () => {
    const owner = await leakWatchIn("state-delta");
    const entries = fleet(1500);
    const store = new StateStore({ client, owner });
    const first = await store.save(entries);
    expect(first.shards).toBeGreaterThan(1);

    expect(await store.save(new Map(entries))).toMatchObject({ written: 0, unchanged: first.shards });
    entries.set("checkout-7d9f8c6b5-00000/app", detectorState(99_999));
    expect(await store.save(entries)).toMatchObject({ written: 1, unchanged: first.shards - 1 });
    entries.delete("checkout-7d9f8c6b5-00001/app");
    expect((await store.save(entries)).written).toBeLessThanOrEqual(1);

    // A restarted operator (a fresh store) continues from exactly this.
    const restarted = new StateStore({ client, owner });
    expect((await restarted.load()).entries).toEqual(entries);
    expect((await restarted.save(entries)).written).toBe(0);
  });

  it("with a write budget, rewrites the stalest shards first and every shard in turn", async () => {
    const owner = await leakWatchIn("state-budget");
    const store = new StateStore({ client, owner });
    const first = await store.save(fleet(2000));
    expect(first.shards).toBeGreaterThanOrEqual(4);

    // Every target changed (as they do between saves): only two shards are written per save…
    const next = fleet(2000, 1);
    const rounds = Math.ceil(first.shards / 2);
    for (let round = 0; round < rounds; round++) {
      expect(await store.save(next, { maxShardWrites: 2 })).toMatchObject({
        shards: first.shards,
        written: 2,
      });
    }
    // … and after shards/2 saves every one of them holds the new state, none written twice.
    expect(await store.save(next, { maxShardWrites: 2 })).toMatchObject({ written: 0 });
    expect((await new StateStore({ client, owner }).load()).entries).toEqual(next);
  });

  it("re-owns the state of an earlier LeakWatch of the same name on the next save", async () => {
    const first = await leakWatchIn("state-reown");
    const entries = fleet(300);
    const saved = await new StateStore({ client, owner: first }).save(entries);
    await client.delete(`/apis/leakwatch.dev/v1alpha1/namespaces/${first.namespace}/leakwatches/checkout`);
    const again = await client.create<{ metadata: { uid: string } }>(
      `/apis/leakwatch.dev/v1alpha1/namespaces/${first.namespace}/leakwatches`,
      {
        apiVersion: "leakwatch.dev/v1alpha1",
        kind: "LeakWatch",
        metadata: { name: "checkout" },
        spec: { selector: {} },
      },
    );
    const second = { ...first, uid: again.metadata.uid };
    const store = new StateStore({ client, owner: second });
    expect((await store.load()).entries).toEqual(entries);
    // Same content, but the garbage collector would delete objects owned by the old uid.
    expect((await store.save(entries)).written).toBe(saved.shards);
    const owners = (await stateObjects(second)).map((o) => o.metadata.ownerReferences?.[0]?.uid);
    expect(owners).toEqual(new Array(saved.shards + 1).fill(second.uid));
    expect((await store.save(entries)).written).toBe(0);
  });

  it("gives the second of two concurrent writers a typed conflict, and succeeds after a reload", async () => {
    const owner = await leakWatchIn("state-conflict");
    const a = new StateStore({ client, owner });
    const b = new StateStore({ client, owner });
    const entries = fleet(50);
    await a.save(entries);
    await b.load();

    const key = "checkout-7d9f8c6b5-00007/app";
    await a.save(new Map(entries).set(key, '{"writer":"a"}'));
    const fromB = new Map(entries).set(key, '{"writer":"b"}');
    await expect(b.save(fromB)).rejects.toBeInstanceOf(StateConflictError);

    expect((await b.load()).entries.get(key)).toBe('{"writer":"a"}');
    await b.save(fromB);
    expect((await new StateStore({ client, owner }).load()).entries.get(key)).toBe('{"writer":"b"}');
  });

  it("re-shards up and down, and a re-shard that dies before its commit leaves the old layout whole", async () => {
    const owner = await leakWatchIn("state-reshard");
    const small = fleet(20);
    const store = new StateStore({ client, owner });
    expect((await store.save(small)).shards).toBe(1);

    // Dies after writing the new shards, before the index names them.
    const dying: StateClient = {
      get: client.get.bind(client),
      delete: client.delete.bind(client),
      create: client.create.bind(client),
      replace: async <T>(path: string, body: unknown, options?: CallOptions): Promise<T> => {
        if (path.endsWith("/lw-checkout-state")) throw new KubeConnectionError("killed");
        return client.replace<T>(path, body, options);
      },
    };
    const large = fleet(3000, 1);
    const crashing = new StateStore({ client: dying, owner });
    await crashing.load();
    await expect(crashing.save(large)).rejects.toThrow("killed");
    expect((await stateObjects(owner)).length).toBeGreaterThan(2);

    const afterCrash = new StateStore({ client, owner });
    const loaded = await afterCrash.load();
    expect(loaded.shards).toBe(1);
    expect(loaded.entries).toEqual(small);

    // The next save commits a layout and deletes every leftover.
    const grown = await afterCrash.save(large);
    expect(grown.shards).toBeGreaterThan(1);
    expect(grown.deleted).toBe(1);
    expect(await stateObjects(owner)).toHaveLength(grown.shards + 1);
    expect((await new StateStore({ client, owner }).load()).entries).toEqual(large);

    const shrunk = await afterCrash.save(small);
    expect(shrunk).toMatchObject({ shards: 1, deleted: grown.shards });
    expect(await stateObjects(owner)).toHaveLength(2);
    expect((await new StateStore({ client, owner }).load()).entries).toEqual(small);
  });
});
