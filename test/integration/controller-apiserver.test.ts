// The API server's pod proxy path (`via: APIServerProxy`), tested against a service in a network
// namespace (the API server refuses to proxy to loopback), and an operator that survives an API
// server restart.
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";
import { startControlPlane } from "../../src/localcluster/controlplane.ts";
import { run } from "../../src/localcluster/kubectl.ts";
import { createRunningPod, eventually, freshNamespace } from "../harness/kube.ts";
import { startLeakyApp } from "../harness/goapps.ts";
import { createLeakWatch, fastSpec, status } from "../harness/leakwatch.ts";
import { createNetnsHost } from "../harness/netns.ts";
import { startOperator } from "../harness/operator.ts";

describe("controller: API server paths", () => {
  it("scrapes through the API server's pod proxy when via is APIServerProxy", async () => {
    const host = await createNetnsHost();
    onTestFinished(async () => {
      await host.remove();
    });
    const app = await startLeakyApp({
      behaviour: "idle",
      host: host.address,
      port: 6060,
      wrapper: host.execPrefix,
    });
    const ns = await freshNamespace("proxy");
    await createRunningPod({
      namespace: ns,
      name: "remote",
      podIP: app.host,
      annotations: { "leakwatch.dev/scrape": "true" },
      ports: [{ name: "pprof", containerPort: 6060 }],
    });
    await createLeakWatch(ns, "lw", fastSpec({ target: { via: "APIServerProxy", port: "pprof" } }));
    const operator = await startOperator({
      args: ["--leader-elect=false", "--status-min-interval=1", `--namespaces=${ns}`],
    });
    const metrics = await eventually("a scrape through the proxy", async () => {
      const text = await operator.metrics();
      return /leakwatch_scrapes_total\{kind="heap",result="[a-z_]+"\} [1-9]/.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(/leakwatch_scrapes_total\{kind="heap",result="ok"\} [1-9]/);
    expect(metrics).not.toMatch(/result="(timeout|refused|http_status)"/);
    expect(metrics).toMatch(
      new RegExp(
        `leakwatch_heap_inuse_bytes\\{namespace="${ns}",leakwatch="lw",pod="remote",container="app"\\} [1-9]`,
      ),
    );
    expect((await status(ns, "lw")).failing ?? 0).toBe(0);
    await operator.stop();
  });

  it("keeps working across an API server restart", async () => {
    const cp = await startControlPlane();
    onTestFinished(async () => {
      await cp.stop();
    });
    await run(cp, ["apply", "--server-side", "-f", join(REPO_ROOT, "crds")]);
    await run(cp, ["wait", "--for=condition=Established", "crd/leakwatches.leakwatch.dev"]);
    await run(cp, ["create", "namespace", "w"]);
    await run(cp, ["create", "serviceaccount", "default", "-n", "w"]);
    const apps = await Promise.all([
      startLeakyApp({ behaviour: "idle" }),
      startLeakyApp({ behaviour: "idle" }),
    ]);
    const pod = (name: string, ip: string, port: number): string =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name,
          annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(port) },
        },
        spec: { automountServiceAccountToken: false, containers: [{ name: "app", image: "leaky" }] },
      }) +
      "\n" +
      ip;
    const createPod = async (name: string, ip: string, port: number): Promise<void> => {
      const [manifest = ""] = pod(name, ip, port).split("\n");
      await run(cp, ["apply", "-n", "w", "-f", "-"], { input: manifest });
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      await run(cp, [
        "patch",
        "pod",
        name,
        "-n",
        "w",
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({
          status: {
            phase: "Running",
            podIP: ip,
            podIPs: [{ ip }],
            conditions: [{ type: "Ready", status: "True" }],
            containerStatuses: [
              {
                name: "app",
                image: "leaky",
                imageID: "",
                ready: true,
                started: true,
                restartCount: 0,
                state: { running: { startedAt: now } },
              },
            ],
          },
        }),
      ]);
    };
    const [a, b] = apps;
    await createPod("a", a.host, a.port);
    await run(cp, ["apply", "-n", "w", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "leakwatch.dev/v1alpha1",
        kind: "LeakWatch",
        metadata: { name: "lw" },
        spec: fastSpec(),
      }),
    });
    const operator = await startOperator({
      kubeconfig: cp.kubeconfigPath,
      args: ["--leader-elect=false", "--status-min-interval=1"],
    });
    const watched = async (): Promise<number> =>
      Number(await run(cp, ["get", "lw", "lw", "-n", "w", "-o", "jsonpath={.status.watched}"]));
    await eventually("watching a", async () => ((await watched()) === 1 ? true : undefined));

    await cp.stopApiServer();
    await eventually(
      "the operator notices",
      () => (operator.logs().some((l) => l.msg === "list/watch failed; retrying") ? true : undefined),
      { timeoutMs: 120_000 },
    );
    await cp.startApiServer();
    await createPod("b", b.host, b.port);
    await eventually(
      "watching b after the restart",
      async () => ((await watched()) === 2 ? true : undefined),
      { timeoutMs: 120_000 },
    );
    expect(operator.process.running).toBe(true);
    await operator.stop();
    expect(await operator.process.exited).toBe(0);
  });
});
