// The chart's permissions are sufficient: install the chart, take a token for its ServiceAccount
// (TokenRequest, RBAC on), and run the operator with exactly the chart's arguments as that
// ServiceAccount through a whole leak scenario — scrape, detect, capture, events, status, persisted
// state, leader Lease, and a dry-run restart decision that reads the pod's owners.
import { randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";
import { helm } from "../harness/helm.ts";
import { clients, controlPlane, eventually, freshNamespace, kubeConfig } from "../harness/kube.ts";
import { startLeakyApp } from "../harness/goapps.ts";
import { createLeakWatch, fastSpec, podRow, status } from "../harness/leakwatch.ts";
import { startOperator } from "../harness/operator.ts";
import { createHandWorkload, eventsWith } from "../harness/workloads.ts";

describe("the operator under the chart's ServiceAccount", () => {
  it("has every permission a leak scenario needs", async () => {
    const release = `leakwatch-${randomBytes(3).toString("hex")}`;
    const system = await freshNamespace("lw-system");
    await helm([
      "install",
      release,
      join(REPO_ROOT, "charts/leakwatch"),
      "--namespace",
      system,
      "--kubeconfig",
      controlPlane().kubeconfigPath,
      "--skip-crds",
      "--set",
      "replicas=1",
    ]);

    // The chart's own operator arguments, read back from the installed Deployment.
    const deployment = await clients().apps.readNamespacedDeployment({ namespace: system, name: release });
    const chartArgs = deployment.spec?.template.spec?.containers[0]?.args ?? [];
    expect(chartArgs[0]).toBe("run");
    const args = chartArgs.slice(1).filter((a) => !a.startsWith("--metrics-bind-address"));
    expect(args).toContain(`--leader-election-namespace=${system}`);

    // A kubeconfig that authenticates as the chart's ServiceAccount with a TokenRequest token.
    const token = await clients().core.createNamespacedServiceAccountToken({
      namespace: system,
      name: release,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const cluster = kubeConfig().getCurrentCluster();
    const dir = await mkdtemp(join(tmpdir(), "lw-sa-"));
    const kubeconfigPath = join(dir, "kubeconfig");
    await writeFile(
      kubeconfigPath,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "c", cluster: { server: cluster?.server, "certificate-authority": controlPlane().caPath } },
        ],
        users: [{ name: "sa", user: { token: token.status?.token } }],
        contexts: [{ name: "sa", context: { cluster: "c", user: "sa", namespace: system } }],
        "current-context": "sa",
      }),
    );

    // A team namespace with a leaking service behind a Deployment, watched in dry-run Restart mode.
    const team = await freshNamespace("team");
    const leaky = await startLeakyApp({ behaviour: "slice", rate: "512KiB" });
    const steady = await startLeakyApp({ behaviour: "sawtooth" });
    const annotations = (port: number): Record<string, string> => ({
      "leakwatch.dev/scrape": "true",
      "leakwatch.dev/port": String(port),
    });
    const workload = await createHandWorkload(team, "shop", [
      { app: leaky, annotations: annotations(leaky.port) },
      { app: steady, annotations: annotations(steady.port) },
    ]);
    await createLeakWatch(
      team,
      "lw",
      fastSpec({ action: { mode: "Restart", restart: { strategy: "Evict", dryRun: true } } }),
    );

    const operator = await startOperator({
      kubeconfig: kubeconfigPath,
      args: [...args, "--status-min-interval=1"],
      env: { POD_NAMESPACE: system },
    });
    const leakingPod = workload.pods[0] ?? "";
    const s = await eventually(
      "the leak detected and captured as the ServiceAccount",
      async () => {
        const st = await status(team, "lw");
        return podRow(st, leakingPod)?.verdict === "Leaking" && (st.captures?.length ?? 0) > 0
          ? st
          : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 1_000 },
    );
    expect(s.captures?.[0]?.complete).toBe(true);
    await eventually(
      "a dry-run restart decision",
      async () => ((await eventsWith(team, "WouldRestart")).length > 0 ? true : undefined),
      { timeoutMs: 60_000 },
    );
    expect((await eventsWith(team, "MemoryLeakDetected")).length).toBeGreaterThan(0);
    const lease = await clients().coordination.readNamespacedLease({
      namespace: system,
      name: `${release}-controller`,
    });
    expect(lease.spec?.holderIdentity).toMatch(/^operator-/);
    const cms = await clients().core.listNamespacedConfigMap({
      namespace: team,
      labelSelector: "app.kubernetes.io/managed-by=leakwatch",
    });
    expect(cms.items.length).toBeGreaterThan(0);

    // Nothing was refused along the way: no 403 status (a bare "403" would match timestamps too).
    const forbidden = operator.logs().filter((l) => {
      const text = JSON.stringify(l);
      return /"status":403\b/.test(text) || text.toLowerCase().includes("forbidden");
    });
    expect(forbidden).toEqual([]);
    await operator.stop();
    expect(await operator.process.exited).toBe(0);
    await helm(["uninstall", release, "--namespace", system, "--kubeconfig", controlPlane().kubeconfigPath]);
  });
});
