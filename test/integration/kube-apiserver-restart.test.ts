// Informers across a kube-apiserver restart, on a control plane of this file's own (the shared one
// must stay up). A restart empties the API server's watch cache, so a watch resumed from a
// resourceVersion older than the restart gets 410 Expired: exactly the case where objects deleted
// while the informer was away must still be reported as deleted, from the relist's diff.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RawObject } from "../../src/kube/cache.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { Informer } from "../../src/kube/informer.ts";
import { startControlPlane, type ControlPlane } from "../../src/localcluster/controlplane.ts";
import { eventually } from "../harness/kube.ts";
import { TcpProxy, kubeconfigVia } from "../harness/tcp-proxy.ts";

const NS = "default";
const PATH = `/api/v1/namespaces/${NS}/configmaps`;

let cp: ControlPlane;
let admin: KubeClient;
let proxy: TcpProxy;
let viaProxy: KubeClient;

beforeAll(async () => {
  cp = await startControlPlane();
  admin = await KubeClient.load({ kubeconfig: cp.kubeconfigPath });
  proxy = TcpProxy.to(cp.server);
  await proxy.start();
  viaProxy = await KubeClient.load({ kubeconfig: await kubeconfigVia(proxy, cp.kubeconfigPath, cp.dir) });
}, 120_000);

afterAll(async () => {
  viaProxy.close();
  admin.close();
  await proxy.stop();
  await cp.stop();
});

const trim = (raw: RawObject): string =>
  `${raw.metadata?.name ?? ""}=${(raw.data as Record<string, string> | undefined)?.value ?? ""}`;

function recording(client: KubeClient) {
  const seen: string[] = [];
  const informer = new Informer<string>({
    client,
    path: PATH,
    labelSelector: "app=demo",
    trim,
    backoff: { initialMs: 100, maxMs: 1_000 },
    requestTimeoutMs: 3_000,
  });
  informer.on("add", (o) => void seen.push(`add ${o}`));
  informer.on("update", (o, old) => void seen.push(`update ${old} -> ${o}`));
  informer.on("delete", (o) => void seen.push(`delete ${o}`));
  return { informer, seen };
}

async function put(name: string, value: string): Promise<void> {
  const body = { metadata: { name, labels: { app: "demo" } }, data: { value } };
  try {
    await admin.create(PATH, body);
  } catch {
    await admin.patch(`${PATH}/${name}`, body, "merge");
  }
}

/** The first event of a watch from `resourceVersion`: "ERROR 410" once the restart made it too old. */
async function firstWatchEvent(resourceVersion: string): Promise<string> {
  const res = await admin.stream(PATH, {
    query: { watch: true, resourceVersion, timeoutSeconds: 2 },
    signal: AbortSignal.timeout(5_000),
  });
  try {
    for await (const chunk of res) {
      const event = JSON.parse(String(chunk).split("\n")[0] ?? "") as {
        type: string;
        object: { code?: number };
      };
      return `${event.type}${event.object.code === undefined ? "" : ` ${event.object.code}`}`;
    }
    return "end";
  } finally {
    res.destroy();
  }
}

describe("informers across an API server restart", () => {
  it("recover, and report what changed while away, deletes included, after 410 Expired", async () => {
    for (const name of ["a", "b", "c"]) await put(name, "1");
    const direct = recording(admin);
    const cutOff = recording(viaProxy); // kept away from the API server while things change
    direct.informer.start();
    cutOff.informer.start();
    await direct.informer.waitForSync(AbortSignal.timeout(10_000));
    await cutOff.informer.waitForSync(AbortSignal.timeout(10_000));
    const { metadata } = await admin.get<{ metadata: { resourceVersion: string } }>(PATH);

    proxy.refuse(true);
    proxy.cutAll();
    await admin.delete(`${PATH}/b`);
    await put("c", "2");
    await put("d", "1");
    await cp.stopApiServer();
    await cp.startApiServer();
    await put("e", "1"); // made after the restart

    // Precondition: resuming from the old resourceVersion now really is answered with 410.
    await eventually("the watch cache to answer 410 for the old resourceVersion", async () =>
      (await firstWatchEvent(metadata.resourceVersion)) === "ERROR 410" ? true : undefined,
    );
    proxy.refuse(false);

    const expected = ["update c=1 -> c=2", "add d=1", "add e=1", "delete b=1"];
    await eventually("the cut-off informer to catch up", () =>
      cutOff.seen.length >= 3 + expected.length ? true : undefined,
    );
    expect(cutOff.seen.slice(3).sort()).toEqual([...expected].sort());
    expect(cutOff.informer.list().slice().sort()).toEqual(["a=1", "c=2", "d=1", "e=1"]);
    const health = cutOff.informer.health();
    expect(health.relists).toBe(2);
    expect(health.watching).toBe(true);

    // The directly connected informer lived through the restart itself.
    await eventually("the direct informer to catch up", () =>
      direct.informer.list().length === 4 ? true : undefined,
    );
    expect(direct.informer.list().slice().sort()).toEqual(["a=1", "c=2", "d=1", "e=1"]);
    expect(direct.seen).toContain("delete b=1");
    expect(direct.informer.health().restarts).toBeGreaterThan(0);
    await direct.informer.stop();
    await cutOff.informer.stop();
  });

  it("firstWatchEvent sees a live watch as such (the precondition above can fail)", async () => {
    const { metadata } = await admin.get<{ metadata: { resourceVersion: string } }>(PATH);
    await put("f", "1");
    expect(await firstWatchEvent(metadata.resourceVersion)).toBe("ADDED");
  });
});
