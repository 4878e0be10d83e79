// The controller follows pods as they come, change and go, and one bad target never holds up the
// others.
import { createServer, type Server, type Socket } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { clients, createRunningPod, eventually, freshNamespace } from "../harness/kube.ts";
import { loopbackAddress, startLeakyApp } from "../harness/goapps.ts";
import { createLeakWatch, fastSpec, podRow, status } from "../harness/leakwatch.ts";
import { startOperator } from "../harness/operator.ts";

describe("controller: discovery and scraping", () => {
  it("follows opt-in annotations, pod deletion and spec changes without a restart", async () => {
    const ns = await freshNamespace("disc");
    const [a, b] = await Promise.all([
      startLeakyApp({ behaviour: "idle" }),
      startLeakyApp({ behaviour: "idle" }),
    ]);
    await createRunningPod({
      namespace: ns,
      name: "a",
      podIP: a.host,
      labels: { app: "x" },
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(a.port) },
    });
    await createRunningPod({
      namespace: ns,
      name: "b",
      podIP: b.host,
      labels: { app: "x" },
      annotations: { "leakwatch.dev/port": String(b.port) },
    });
    await createLeakWatch(ns, "lw", fastSpec({ selector: { matchLabels: { app: "x" } } }));
    const operator = await startOperator({
      args: ["--leader-elect=false", "--status-min-interval=1", `--namespaces=${ns}`],
    });

    await eventually("pod a watched", async () =>
      (await status(ns, "lw")).watched === 1 ? true : undefined,
    );
    const { core } = clients();
    await core.patchNamespacedPod({
      namespace: ns,
      name: "b",
      body: [{ op: "add", path: "/metadata/annotations/leakwatch.dev~1scrape", value: "true" }],
    });
    await eventually("pod b watched after opting in", async () =>
      (await status(ns, "lw")).watched === 2 ? true : undefined,
    );
    await eventually("pod b scraped", async () =>
      (await operator.metrics()).includes(
        `leakwatch_heap_inuse_bytes{namespace="${ns}",leakwatch="lw",pod="b",container="app"}`,
      )
        ? true
        : undefined,
    );

    await core.deleteNamespacedPod({ namespace: ns, name: "a" });
    await eventually("pod a dropped", async () =>
      (await status(ns, "lw")).watched === 1 ? true : undefined,
    );
    await eventually("pod a's metrics removed", async () =>
      !(await operator.metrics()).includes(`pod="a"`) ? true : undefined,
    );

    await clients().custom.patchNamespacedCustomObject({
      group: "leakwatch.dev",
      version: "v1alpha1",
      plural: "leakwatches",
      namespace: ns,
      name: "lw",
      body: [{ op: "replace", path: "/spec/selector", value: { matchLabels: { app: "nothing" } } }],
    });
    const s = await eventually("no pod after the selector changed", async () => {
      const st = await status(ns, "lw");
      return st.watched === 0 ? st : undefined;
    });
    expect(s.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "True",
      reason: "NoTargets",
    });
    await operator.stop();
    expect(operator.process.running).toBe(false);
    expect(await operator.process.exited).toBe(0);
  });

  it("keeps scraping the others while one pprof endpoint hangs, and reports the hung one", async () => {
    const ns = await freshNamespace("hung");
    const sockets = new Set<Socket>();
    const hungHost = loopbackAddress(200);
    const hung: Server = createServer((socket) => {
      sockets.add(socket); // accept, read, never answer
    });
    await new Promise<void>((r) => hung.listen(0, hungHost, r));
    const hungPort = (hung.address() as { port: number }).port;
    onTestFinished(() => {
      for (const s of sockets) s.destroy();
      hung.close();
    });
    const good = await Promise.all([
      startLeakyApp({ behaviour: "idle" }),
      startLeakyApp({ behaviour: "idle" }),
    ]);
    await createRunningPod({
      namespace: ns,
      name: "hung",
      podIP: hungHost,
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(hungPort) },
    });
    for (const [i, app] of good.entries()) {
      await createRunningPod({
        namespace: ns,
        name: `good-${i}`,
        podIP: app.host,
        annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(app.port) },
      });
    }
    await createLeakWatch(ns, "lw", fastSpec({ target: { timeout: "2s" } }));
    const operator = await startOperator({
      args: ["--leader-elect=false", "--status-min-interval=1", "--concurrency=2", `--namespaces=${ns}`],
    });

    // With two slots and one always hanging, the good pods must still be scraped every second.
    const okScrapes = async (): Promise<number> => {
      const m = /leakwatch_scrapes_total\{kind="heap",result="ok"\} (\d+)/.exec(await operator.metrics());
      return Number(m?.[1] ?? 0);
    };
    const first = await eventually("good pods scraped", async () =>
      (await okScrapes()) >= 4 ? okScrapes() : undefined,
    );
    await eventually(
      "good pods keep being scraped",
      async () => ((await okScrapes()) >= first + 10 ? true : undefined),
      { timeoutMs: 30_000 },
    );

    const s = await eventually("the hung pod is reported failing", async () => {
      const st = await status(ns, "lw");
      return st.failing === 1 ? st : undefined;
    });
    expect(podRow(s, "hung")?.verdict).toBe("Failing");
    expect(podRow(s, "hung")?.lastError).toMatch(/took longer than 2000 ms/);
    expect(s.conditions?.find((c) => c.type === "ScrapesFailing")).toMatchObject({ status: "True" });
    const events = await eventually("a ScrapeFailing warning", async () => {
      const list = await clients().events.listNamespacedEvent({ namespace: ns });
      const found = list.items.filter((e) => e.reason === "ScrapeFailing");
      return found.length > 0 ? found : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "Warning",
      regarding: { kind: "Pod", name: "hung" },
      reportingController: "leakwatch.dev/controller",
    });
    expect(await okScrapes()).toBeGreaterThan(first);
    await operator.stop();
  });
});
