// RolloutRestart end to end, on a control plane of its own with kube-controller-manager (from the
// same Kubernetes build): a real Deployment's ReplicaSet creates the pod, we play kubelet for it
// (Running, Ready, its IP where a leaking Go service listens), and once the leak is confirmed and
// its capture stored, LeakWatch patches the template's restartedAt exactly as `kubectl rollout
// restart` does — and the Deployment controller answers with a new ReplicaSet.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LeakWatch, LeakWatchStatus } from "../../src/api/types.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { isNotFound } from "../../src/kube/errors.ts";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";
import { startControlPlane, type ControlPlane } from "../../src/localcluster/controlplane.ts";
import { run } from "../../src/localcluster/kubectl.ts";
import { setPodRunning } from "../../src/localcluster/kubelet.ts";
import { eventually } from "../harness/kube.ts";
import { startLeakyApp } from "../harness/goapps.ts";
import { fastSpec } from "../harness/leakwatch.ts";
import { startOperator } from "../harness/operator.ts";

let cp: ControlPlane;
let client: KubeClient;

beforeAll(async () => {
  cp = await startControlPlane({ controllerManager: true });
  await run(cp, ["apply", "--server-side", "-f", join(REPO_ROOT, "crds")]);
  await run(cp, ["wait", "--for=condition=Established", "--timeout=60s", "crd/leakwatches.leakwatch.dev"]);
  client = await KubeClient.load({ kubeconfig: cp.kubeconfigPath });
});

afterAll(async () => {
  client.close();
  await cp.stop();
});

interface Obj {
  metadata: {
    name: string;
    uid: string;
    generation?: number;
    ownerReferences?: { uid: string }[];
    annotations?: Record<string, string>;
  };
  spec?: { template?: { metadata?: { annotations?: Record<string, string> } } };
  status?: { availableReplicas?: number };
}

async function get<T>(path: string): Promise<T | undefined> {
  try {
    return await client.get<T>(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

describe("controlled restarts: RolloutRestart", () => {
  it("stores the capture, then rolls the Deployment out; its controller makes a new ReplicaSet", async () => {
    const ns = "rollout";
    await client.create("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
    });
    await eventually("the default ServiceAccount", async () =>
      get(`/api/v1/namespaces/${ns}/serviceaccounts/default`),
    );
    const app = await startLeakyApp({ behaviour: "slice", rate: "512KiB" });
    const apps = `/apis/apps/v1/namespaces/${ns}`;
    // One replica: Evict would refuse (no replica left); a rollout starts the new pod first.
    const deployment = await client.create<Obj>(`${apps}/deployments`, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: {
            labels: { app: "web" },
            annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(app.port) },
          },
          spec: {
            automountServiceAccountToken: false,
            containers: [{ name: "app", image: "leaky-app:local" }],
          },
        },
      },
    });
    const pod = await eventually("the ReplicaSet's pod", async () => {
      const list = await client.get<{ items: Obj[] }>(`/api/v1/namespaces/${ns}/pods`);
      return list.items[0];
    });
    await setPodRunning(client, ns, pod.metadata.name, { podIP: app.host });
    await eventually("the Deployment available", async () => {
      const d = await client.get<Obj>(`${apps}/deployments/web`);
      return (d.status?.availableReplicas ?? 0) >= 1 ? true : undefined;
    });
    const replicaSets = async (): Promise<Obj[]> =>
      (await client.get<{ items: Obj[] }>(`${apps}/replicasets`)).items.filter((rs) =>
        rs.metadata.ownerReferences?.some((o) => o.uid === deployment.metadata.uid),
      );
    expect(await replicaSets()).toHaveLength(1);

    await client.create(`/apis/leakwatch.dev/v1alpha1/namespaces/${ns}/leakwatches`, {
      apiVersion: "leakwatch.dev/v1alpha1",
      kind: "LeakWatch",
      metadata: { name: "lw" },
      spec: fastSpec({ action: { mode: "Restart", restart: { strategy: "RolloutRestart" } } }),
    });
    const operator = await startOperator({
      kubeconfig: cp.kubeconfigPath,
      args: ["--leader-elect=false", "--status-min-interval=1", `--namespaces=${ns}`],
    });

    const restartedAt = await eventually(
      "the rollout restart patch on the Deployment",
      async () => {
        const d = await client.get<Obj>(`${apps}/deployments/web`);
        return d.spec?.template?.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"];
      },
      { timeoutMs: 240_000, intervalMs: 1_000 },
    );
    expect(restartedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await eventually("a new ReplicaSet from the Deployment controller", async () =>
      (await replicaSets()).length === 2 ? true : undefined,
    );

    const lw = await client.get<LeakWatch>(`/apis/leakwatch.dev/v1alpha1/namespaces/${ns}/leakwatches/lw`);
    const status: LeakWatchStatus = lw.status ?? {};
    const [record] = status.restarts ?? [];
    expect(status.restarts).toHaveLength(1);
    expect(record).toMatchObject({
      pod: pod.metadata.name,
      workload: "Deployment/web",
      strategy: "RolloutRestart",
      result: "Restarted",
    });
    // Evidence first: the capture was stored before the restart, and is named by it.
    const capture = status.captures?.find((c) => c.name === record?.capture);
    expect(capture).toBeDefined();
    expect(Date.parse(capture?.time ?? "")).toBeLessThanOrEqual(Date.parse(record?.time ?? ""));
    expect(await get(`/api/v1/namespaces/${ns}/configmaps/${record?.capture ?? "?"}`)).toBeDefined();
    const events = await client.get<{
      items: { reason?: string; regarding?: { kind?: string }; note?: string }[];
    }>(`/apis/events.k8s.io/v1/namespaces/${ns}/events`);
    const onDeployment = events.items.find(
      (e) => e.reason === "LeakRestarted" && e.regarding?.kind === "Deployment",
    );
    expect(onDeployment?.note).toMatch(/rollout-restarted Deployment\/web .*strategy RolloutRestart/);

    // The old pod keeps leaking until it is replaced: it is not restarted again.
    const generation = (await client.get<Obj>(`${apps}/deployments/web`)).metadata.generation;
    const scrapes = async (): Promise<number> =>
      Number(
        /leakwatch_scrapes_total\{kind="heap",result="ok"\} (\d+)/.exec(await operator.metrics())?.[1] ?? 0,
      );
    const from = await scrapes();
    await eventually("ten more scrapes of the leaking pod", async () =>
      (await scrapes()) >= from + 10 ? true : undefined,
    );
    expect((await client.get<Obj>(`${apps}/deployments/web`)).metadata.generation).toBe(generation);
    await operator.stop();
  });
});
