// The informer against the real API server: notifications, paging and label selection, and the
// failures client-node's informer does not survive, injected through a TCP proxy: a watch that
// goes silent with its socket still open, and connections that drop and are refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RawObject } from "../../src/kube/cache.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { systemClock } from "../../src/kube/clock.ts";
import { Informer, informerUnhealthyReason, type InformerOptions } from "../../src/kube/informer.ts";
import { controlPlane, eventually, freshNamespace } from "../harness/kube.ts";
import { TcpProxy, kubeconfigVia } from "../harness/tcp-proxy.ts";

interface Trimmed {
  name: string;
  value: string | undefined;
}

const trim = (raw: RawObject): Trimmed => ({
  name: raw.metadata?.name ?? "",
  value: (raw.data as Record<string, string> | undefined)?.value,
});

let admin: KubeClient;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  admin = await KubeClient.load({ kubeconfig: controlPlane().kubeconfigPath });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  admin.close();
});

function configMaps(ns: string): string {
  return `/api/v1/namespaces/${ns}/configmaps`;
}

async function putConfigMap(
  ns: string,
  name: string,
  value: string,
  labels = { app: "demo" },
): Promise<void> {
  const body = { metadata: { name, labels }, data: { value } };
  try {
    await admin.create(configMaps(ns), body);
  } catch {
    await admin.patch(`${configMaps(ns)}/${name}`, body, "merge");
  }
}

/** An informer on `ns`'s ConfigMaps that records what it was told. */
function recordingInformer(client: KubeClient, ns: string, options: Partial<InformerOptions<Trimmed>> = {}) {
  const seen: string[] = [];
  const informer = new Informer<Trimmed>({
    client,
    path: configMaps(ns),
    labelSelector: "app=demo",
    trim,
    ...options,
  });
  informer.on("add", (o) => void seen.push(`add ${o.name}=${o.value ?? ""}`));
  informer.on("update", (o, old) => void seen.push(`update ${o.name} ${old.value ?? ""}->${o.value ?? ""}`));
  informer.on("delete", (o) => void seen.push(`delete ${o.name}=${o.value ?? ""}`));
  cleanups.push(() => informer.stop());
  return { informer, seen };
}

async function proxied(): Promise<{ proxy: TcpProxy; client: KubeClient }> {
  const cp = controlPlane();
  const proxy = TcpProxy.to(cp.server);
  await proxy.start();
  const client = await KubeClient.load({ kubeconfig: await kubeconfigVia(proxy, cp.kubeconfigPath, cp.dir) });
  cleanups.push(async () => {
    client.close();
    await proxy.stop();
  });
  return { proxy, client };
}

describe("Informer against the API server", () => {
  it("lists across pages and follows adds, updates and deletes of the selected objects", async () => {
    const ns = await freshNamespace("inf");
    for (const name of ["a", "b", "c", "d", "e"]) await putConfigMap(ns, name, "1");
    await putConfigMap(ns, "other", "1", { app: "unrelated" });
    const { informer, seen } = recordingInformer(admin, ns, { pageSize: 2 });
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(10_000));
    expect(
      informer
        .list()
        .map((o) => o.name)
        .sort(),
    ).toEqual(["a", "b", "c", "d", "e"]);
    expect(informer.get(`${ns}/a`)).toEqual({ name: "a", value: "1" }); // trimmed before caching

    await putConfigMap(ns, "f", "1");
    await putConfigMap(ns, "a", "2");
    await admin.delete(`${configMaps(ns)}/b`);
    await putConfigMap(ns, "other", "2", { app: "unrelated" });
    await eventually("the watch to deliver the changes", () => (seen.length >= 8 ? true : undefined), {
      timeoutMs: 10_000,
    });
    expect(seen.slice(5)).toEqual(["add f=1", "update a 1->2", "delete b=1"]);
    expect(informer.health()).toMatchObject({ synced: true, watching: true, restarts: 0, handlerErrors: 0 });
  });

  it("does not mistake a quiet watch for a dead one (the request deadline ends at the status line)", async () => {
    const ns = await freshNamespace("inf");
    const { informer } = recordingInformer(admin, ns, { requestTimeoutMs: 500 });
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(10_000));
    await eventually("the watch to open", () => (informer.health().watching ? true : undefined));
    // Nothing happens in this namespace: there is no condition to wait for, only time to let pass.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(informer.health()).toMatchObject({ watching: true, restarts: 0, lastError: undefined });
  });

  it("detects a watch that went silent with its socket open, and restarts it", async () => {
    const ns = await freshNamespace("inf");
    await putConfigMap(ns, "a", "1");
    const { proxy, client } = await proxied();
    const warnings: { code?: unknown; err?: unknown }[] = [];
    const quiet = (): void => undefined;
    const { informer, seen } = recordingInformer(client, ns, {
      logger: { debug: quiet, info: quiet, error: quiet, warn: (obj) => void warnings.push(obj) },
      idleTimeoutMs: 2_000,
      requestTimeoutMs: 3_000,
      backoff: { initialMs: 200, maxMs: 1_000 },
    });
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(10_000));
    await eventually("the watch to open", () => (informer.health().watching ? true : undefined));
    const restartsBefore = informer.health().restarts;

    // Existing connections go silent; new ones still work. Without the watchdog the informer
    // would wait on the dead stream for as long as the socket lives.
    proxy.stall({ newConnections: false });
    const stalledAt = Date.now();
    await putConfigMap(ns, "b", "1");
    await eventually("the change made during the stall", () => informer.get(`${ns}/b`), {
      timeoutMs: 15_000,
    });
    expect(Date.now() - stalledAt).toBeGreaterThanOrEqual(1_500);
    const health = informer.health();
    expect(health.restarts).toBeGreaterThan(restartsBefore);
    // Later errors may follow (a new request can pick a stalled keep-alive socket and time out).
    expect(warnings).toContainEqual(
      expect.objectContaining({
        code: "LW_KUBE_WATCH",
        err: expect.stringMatching(/nothing received/) as unknown,
      }),
    );
    expect(health.relists).toBe(1); // resumed from its resourceVersion
    expect(seen).toEqual(["add a=1", "add b=1"]);
    proxy.resume();
  });

  it("rides out dropped and refused connections, reports the outage, and resumes where it left off", async () => {
    const ns = await freshNamespace("inf");
    await putConfigMap(ns, "a", "1");
    await putConfigMap(ns, "b", "1");
    const { proxy, client } = await proxied();
    const { informer, seen } = recordingInformer(client, ns, { backoff: { initialMs: 100, maxMs: 500 } });
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(10_000));

    proxy.refuse(true);
    proxy.cutAll();
    await putConfigMap(ns, "a", "2");
    await admin.delete(`${configMaps(ns)}/b`);
    await putConfigMap(ns, "c", "1");
    await eventually("the informer to notice the outage", () =>
      informer.health().watching ? undefined : informer.health(),
    );
    await eventually("the outage to count as unhealthy", () =>
      informerUnhealthyReason(informer.health(), systemClock.now(), 1_000),
    );
    expect(informerUnhealthyReason(informer.health(), systemClock.now(), 1_000)).toMatch(/^watch down for/);
    const restartsDuringOutage = informer.health().restarts;

    proxy.refuse(false);
    await eventually("the missed changes", () => (seen.length >= 5 ? true : undefined), {
      timeoutMs: 15_000,
    });
    expect(seen.slice(2)).toEqual(["update a 1->2", "delete b=1", "add c=1"]);
    const health = informer.health();
    expect(restartsDuringOutage).toBeGreaterThan(1);
    expect(health).toMatchObject({ watching: true, downSince: undefined, relists: 1 });
    expect(informerUnhealthyReason(health, systemClock.now(), 1_000)).toBeUndefined();
  });
});
