// The capture store against a real API server, with a real Go heap profile: byte-exact round trips
// across parts, `go tool pprof` on what comes back, the size policy, crash safety (manifest last,
// orphans swept), idempotent retries, and pruning.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CaptureConflictError,
  CaptureCorruptError,
  CaptureIncompleteError,
  CaptureTooLargeError,
} from "../../src/kube/capture-errors.ts";
import { PART_MAX_BYTES } from "../../src/kube/capture-layout.ts";
import {
  ConfigMapCaptureStore,
  type CaptureClient,
  type CaptureFiles,
  type CaptureMeta,
} from "../../src/kube/captures.ts";
import { KubeClient, type CallOptions } from "../../src/kube/client.ts";
import { decodeProfileBytes, heapSites, summarizeHeap } from "../../src/profile/index.ts";
import type { ConfigMap } from "../../src/kube/configmaps.ts";
import { KubeConnectionError } from "../../src/kube/errors.ts";
import { startLeakyApp } from "../harness/goapps.ts";
import { controlPlane, eventually, freshNamespace } from "../harness/kube.ts";

const run = promisify(execFile);
const KiB = 1024;
const MiB = 1024 * KiB;

let client: KubeClient;
let store: ConfigMapCaptureStore;

beforeAll(async () => {
  client = await KubeClient.load({ kubeconfig: controlPlane().kubeconfigPath });
  store = new ConfigMapCaptureStore({ client });
});

afterAll(() => {
  client.close();
});

/** A namespace with a real LeakWatch to own the captures. */
async function leakWatchIn(
  prefix: string,
  name = "checkout",
): Promise<{ ns: string; uid: string; name: string }> {
  const ns = await freshNamespace(prefix);
  const created = await client.create<{ metadata: { uid: string } }>(
    `/apis/leakwatch.dev/v1alpha1/namespaces/${ns}/leakwatches`,
    { apiVersion: "leakwatch.dev/v1alpha1", kind: "LeakWatch", metadata: { name }, spec: { selector: {} } },
  );
  return { ns, uid: created.metadata.uid, name };
}

function metaFor(lw: { ns: string; uid: string; name: string }, pod: string, createdAt: string): CaptureMeta {
  return {
    leakWatch: { name: lw.name, uid: lw.uid },
    namespace: lw.ns,
    pod,
    container: "app",
    workload: { kind: "Deployment", name: "checkout" },
    createdAt,
    headline: "+2.4 MiB/h in main.appendChunk",
    reason: "Leaking",
  };
}

async function objectsOf(ns: string, capture: string): Promise<ConfigMap[]> {
  const list = await client.get<{ items: ConfigMap[] }>(`/api/v1/namespaces/${ns}/configmaps`, {
    query: { labelSelector: `leakwatch.dev/capture=${capture}` },
  });
  return list.items;
}

async function pprofTop(bytes: Buffer): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "lw-pprof-"));
  const file = join(dir, "heap.pb.gz");
  writeFileSync(file, bytes);
  const { stdout } = await run("go", ["tool", "pprof", "-top", "-sample_index=inuse_space", file], {
    env: { ...process.env, PPROF_TMPDIR: dir },
    timeout: 60_000,
  });
  return stdout;
}

describe("ConfigMapCaptureStore against the API server", () => {
  it("stores a real Go heap profile that go tool pprof opens unchanged", async () => {
    const app = await startLeakyApp({ behaviour: "slice", rate: "1MiB", tick: "50ms" });
    const url = `http://${app.host}:${app.port}/debug/pprof`;
    const fetchBytes = async (path: string): Promise<Buffer> => {
      const res = await fetch(`${url}/${path}`);
      expect(res.status).toBe(200);
      return Buffer.from(await res.arrayBuffer());
    };
    const base = await fetchBytes("heap?gc=1");
    // The leak shows in the heap profile's in-use space once a few sampled allocations have been
    // retained and published (Go publishes them a GC cycle or two later: the name alone can already
    // be in the profile, from its allocation counts, while no in-use bytes are).
    const heap = await eventually("a heap profile with the leak in use", async () => {
      const bytes = await fetchBytes("heap?gc=1");
      const sites = heapSites(summarizeHeap(decodeProfileBytes(bytes, { stacks: "leaf" })));
      return sites.some((site) => site.function === "main.appendChunk" && site.bytes > 0) ? bytes : undefined;
    });
    const goroutine = await fetchBytes("goroutine");
    const lw = await leakWatchIn("cap-go");
    const files: CaptureFiles = {
      "heap.pb.gz": heap,
      "base-heap.pb.gz": base,
      "goroutine.pb.gz": goroutine,
      "report.txt": "top growth\n  +2.4 MiB main.appendChunk\n",
      "report.json": JSON.stringify({ top: [{ fn: "main.appendChunk", bytes: 2_400_000 }] }),
    };
    const saved = await store.save(files, metaFor(lw, "checkout-7d9f8c6b5-x2k4p", new Date().toISOString()), {
      maxBytes: 4 * MiB,
    });
    expect(saved.complete).toBe(true);

    const back = await store.get(lw.ns, saved.name);
    expect(back.files["heap.pb.gz"].equals(heap)).toBe(true);
    expect(back.files["base-heap.pb.gz"]?.equals(base)).toBe(true);
    expect(back.files["goroutine.pb.gz"]?.equals(goroutine)).toBe(true);
    expect(back.files["report.txt"]).toBe(files["report.txt"]);

    const original = await pprofTop(heap);
    const stored = await pprofTop(back.files["heap.pb.gz"]);
    expect(stored).toBe(original);
    expect(stored).toMatch(/Type: inuse_space/);
    expect(stored).toContain("main.appendChunk");
  });

  it("splits a 2.6 MiB capture across owned, labelled part ConfigMaps and reads it back byte-exact", async () => {
    const lw = await leakWatchIn("cap-split");
    const files: CaptureFiles = {
      "heap.pb.gz": randomBytes(2 * MiB + 123),
      "goroutine.pb.gz": randomBytes(300 * KiB),
      "base-heap.pb.gz": randomBytes(200 * KiB),
      "report.txt": "漏れ report ".repeat(1000),
      "report.json": "{}",
    };
    const pod = `checkout-${"x".repeat(70)}-7d9f8c6b5-x2k4p`;
    const saved = await store.save(files, metaFor(lw, pod, new Date().toISOString()), { maxBytes: 4 * MiB });
    expect(saved.name.length).toBeLessThanOrEqual(63);

    const objects = await objectsOf(lw.ns, saved.name);
    const parts = objects.filter((o) => o.metadata.labels?.["leakwatch.dev/capture-role"] === "part");
    expect(parts.length).toBe(Math.ceil(saved.bytes / PART_MAX_BYTES));
    expect(objects).toHaveLength(parts.length + 1);
    for (const o of objects) {
      expect(o.metadata.ownerReferences).toEqual([
        {
          apiVersion: "leakwatch.dev/v1alpha1",
          kind: "LeakWatch",
          name: lw.name,
          uid: lw.uid,
          controller: true,
        },
      ]);
      expect(o.metadata.labels).toMatchObject({
        "app.kubernetes.io/managed-by": "leakwatch",
        "leakwatch.dev/leakwatch": lw.name,
        "leakwatch.dev/capture": saved.name,
      });
      expect(o.metadata.labels?.["leakwatch.dev/pod"]?.length).toBeLessThanOrEqual(63);
      expect(o.immutable).toBe(true);
      const encoded = JSON.stringify(o).length;
      expect(encoded).toBeLessThan(800 * KiB);
    }

    const back = await store.get(lw.ns, saved.name);
    expect(back.files["heap.pb.gz"].equals(files["heap.pb.gz"])).toBe(true);
    expect(back.files["goroutine.pb.gz"]?.equals(files["goroutine.pb.gz"] ?? Buffer.alloc(0))).toBe(true);
    expect(back.files["base-heap.pb.gz"]?.equals(files["base-heap.pb.gz"] ?? Buffer.alloc(0))).toBe(true);
    expect(back.files["report.txt"]).toBe(files["report.txt"]);
    expect(back.meta).toMatchObject({ pod, omitted: [], maxBytes: 4 * MiB });

    // A part that goes missing makes the capture incomplete; one with other bytes, corrupt.
    const victim = parts[1];
    if (victim === undefined) throw new Error("expected several parts");
    const victimPath = `/api/v1/namespaces/${lw.ns}/configmaps/${victim.metadata.name}`;
    await client.delete(victimPath);
    await expect(store.get(lw.ns, saved.name)).rejects.toBeInstanceOf(CaptureIncompleteError);
    const [key, value] = Object.entries(victim.binaryData ?? {})[0] ?? ["", ""];
    const tampered = Buffer.from(value, "base64");
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    await client.create(`/api/v1/namespaces/${lw.ns}/configmaps`, {
      metadata: { name: victim.metadata.name, labels: victim.metadata.labels },
      binaryData: { ...victim.binaryData, [key]: tampered.toString("base64") },
    });
    await expect(store.get(lw.ns, saved.name)).rejects.toBeInstanceOf(CaptureCorruptError);
  });

  it("drops the base profile to fit maxBytes and says so; refuses a heap larger than maxBytes", async () => {
    const lw = await leakWatchIn("cap-size");
    const files: CaptureFiles = {
      "heap.pb.gz": randomBytes(600 * KiB),
      "goroutine.pb.gz": randomBytes(300 * KiB),
      "base-heap.pb.gz": randomBytes(300 * KiB),
      "report.txt": "r",
      "report.json": "{}",
    };
    const saved = await store.save(files, metaFor(lw, "p-1", new Date().toISOString()), { maxBytes: MiB });
    expect(saved.complete).toBe(false);
    const [listed] = await store.list(lw.ns, lw.name);
    expect(listed?.meta.omitted).toEqual([{ file: "base-heap.pb.gz", bytes: 300 * KiB, action: "dropped" }]);
    expect(listed?.files.map((f) => f.name)).toEqual([
      "heap.pb.gz",
      "goroutine.pb.gz",
      "report.txt",
      "report.json",
    ]);

    const tooBig = { ...files, "heap.pb.gz": randomBytes(MiB + 1) };
    const meta = metaFor(lw, "p-2", new Date().toISOString());
    await expect(store.save(tooBig, meta, { maxBytes: MiB })).rejects.toBeInstanceOf(CaptureTooLargeError);
    expect((await store.list(lw.ns, lw.name)).map((c) => c.name)).toEqual([saved.name]);
  });

  it("never lists a capture whose manifest was not written; the retry completes it; the sweeper removes orphans", async () => {
    const lw = await leakWatchIn("cap-crash");
    // The process "dies" right before the manifest: every part is written, the manifest never is.
    const crashing: CaptureClient = {
      get: client.get.bind(client),
      delete: client.delete.bind(client),
      create: async <T>(path: string, body: unknown, options?: CallOptions): Promise<T> => {
        if ((body as ConfigMap).data?.["manifest.json"] !== undefined)
          throw new KubeConnectionError("killed");
        return client.create<T>(path, body, options);
      },
    };
    const files: CaptureFiles = {
      "heap.pb.gz": randomBytes(1200 * KiB),
      "report.txt": "r",
      "report.json": "{}",
    };
    const orphanMeta = metaFor(lw, "orphan-pod", new Date(Date.now() - 1000).toISOString());
    const retryMeta = metaFor(lw, "retried-pod", new Date().toISOString());
    const crashingStore = new ConfigMapCaptureStore({ client: crashing });
    await expect(crashingStore.save(files, orphanMeta, { maxBytes: 4 * MiB })).rejects.toThrow("killed");
    await expect(crashingStore.save(files, retryMeta, { maxBytes: 4 * MiB })).rejects.toThrow("killed");

    expect(await store.list(lw.ns)).toEqual([]);

    // A retry of the same capture reuses the parts already written: no duplicates.
    const retried = await store.save(files, retryMeta, { maxBytes: 4 * MiB });
    const retriedObjects = await objectsOf(lw.ns, retried.name);
    expect(retriedObjects).toHaveLength(3 + 1);
    expect((await store.list(lw.ns)).map((c) => c.name)).toEqual([retried.name]);
    // Saving it once more is a no-op; other content under the same name is refused.
    expect((await store.save(files, retryMeta, { maxBytes: 4 * MiB })).name).toBe(retried.name);
    expect(await objectsOf(lw.ns, retried.name)).toHaveLength(4);
    await expect(
      store.save({ ...files, "report.txt": "other" }, retryMeta, { maxBytes: 4 * MiB }),
    ).rejects.toBeInstanceOf(CaptureConflictError);

    const parts = await client.get<{ items: ConfigMap[] }>(`/api/v1/namespaces/${lw.ns}/configmaps`, {
      query: { labelSelector: "leakwatch.dev/capture-role=part,leakwatch.dev/pod=orphan-pod" },
    });
    const orphan = parts.items[0]?.metadata.labels?.["leakwatch.dev/capture"] ?? "";
    expect(parts.items).toHaveLength(3);
    await expect(store.get(lw.ns, orphan)).rejects.toBeInstanceOf(CaptureIncompleteError);

    // Within the grace period the sweeper leaves parts alone (a save may still be under way).
    expect(await store.sweepOrphans(lw.ns, 10 * 60_000)).toEqual([]);
    const later = new ConfigMapCaptureStore({ client, now: () => Date.now() + 11 * 60_000 });
    const swept = await later.sweepOrphans(lw.ns, 10 * 60_000);
    expect(swept.sort()).toEqual(parts.items.map((p) => p.metadata.name).sort());
    expect(await objectsOf(lw.ns, orphan)).toEqual([]);
    expect(await objectsOf(lw.ns, retried.name)).toHaveLength(4);
    expect((await store.get(lw.ns, retried.name)).files["heap.pb.gz"].equals(files["heap.pb.gz"])).toBe(true);
  });

  it("prune keeps the newest N captures of one LeakWatch and deletes the rest with their parts", async () => {
    const lw = await leakWatchIn("cap-prune");
    const other = await client.create<{ metadata: { uid: string } }>(
      `/apis/leakwatch.dev/v1alpha1/namespaces/${lw.ns}/leakwatches`,
      {
        apiVersion: "leakwatch.dev/v1alpha1",
        kind: "LeakWatch",
        metadata: { name: "ledger" },
        spec: { selector: {} },
      },
    );
    const files: CaptureFiles = {
      "heap.pb.gz": randomBytes(600 * KiB),
      "report.txt": "r",
      "report.json": "{}",
    };
    const start = Date.UTC(2025, 5, 1, 10, 0, 0);
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      const meta = metaFor(lw, `pod-${i}`, new Date(start + i * 60_000).toISOString());
      names.push((await store.save(files, meta, { maxBytes: 4 * MiB })).name);
    }
    const foreign = await store.save(
      files,
      {
        ...metaFor(
          { ...lw, name: "ledger", uid: other.metadata.uid },
          "pod-x",
          new Date(start).toISOString(),
        ),
      },
      { maxBytes: 4 * MiB },
    );

    const pruned = await store.prune(lw.ns, lw.name, 2);
    expect(pruned.sort()).toEqual([names[0], names[1]].sort());
    expect((await store.list(lw.ns, lw.name)).map((c) => c.name)).toEqual([names[3], names[2]]);
    for (const gone of pruned) expect(await objectsOf(lw.ns, gone)).toEqual([]);
    expect((await store.list(lw.ns, "ledger")).map((c) => c.name)).toEqual([foreign.name]);
  });
});
