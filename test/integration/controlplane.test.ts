// The test control plane is real: RBAC is enforced, service-account tokens are issued, and pods
// given a loopback IP point at real Go processes serving pprof.
import { describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { clients, createRunningPod, freshNamespace, kubeConfig } from "../harness/kube.ts";
import { startLeakyApp } from "../harness/goapps.ts";

describe("local control plane", () => {
  it("authorizes with RBAC: a fresh service account may not list pods until bound", async () => {
    const ns = await freshNamespace("rbac");
    const { core, rbac } = clients();
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "reader" } } });
    const token = await core.createNamespacedServiceAccountToken({
      namespace: ns,
      name: "reader",
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const asReader = new k8s.KubeConfig();
    const cluster = kubeConfig().getCurrentCluster();
    if (cluster === null) throw new Error("no cluster in kubeconfig");
    asReader.loadFromClusterAndUser(cluster, { name: "reader", token: token.status?.token ?? "" });
    const readerCore = asReader.makeApiClient(k8s.CoreV1Api);

    await expect(readerCore.listNamespacedPod({ namespace: ns })).rejects.toMatchObject({ code: 403 });

    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: "pod-reader" },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: "pod-reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace: ns }],
      },
    });
    const pods = await readerCore.listNamespacedPod({ namespace: ns });
    expect(pods.items).toEqual([]);
  });

  it("runs pods whose status points at a real Go process serving pprof", async () => {
    const ns = await freshNamespace("pods");
    const app = await startLeakyApp({ behaviour: "idle" });
    const pod = await createRunningPod({
      namespace: ns,
      name: "idle",
      podIP: app.host,
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(app.port) },
    });
    expect(pod.status?.phase).toBe("Running");
    expect(pod.status?.podIP).toBe(app.host);
    const res = await fetch(`http://${pod.status?.podIP ?? ""}:${app.port}/debug/pprof/heap`);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzipped profile.proto
  });
});
