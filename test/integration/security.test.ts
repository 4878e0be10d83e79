// Trust boundaries: a LeakWatch sees and touches only its own namespace, scrapes only pod IPs the
// API server reported (never metadata or link-local addresses, only pprof paths), and the
// credentials it reads never show up in logs, events or status.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { describe, expect, it, onTestFinished } from "vitest";
import { clients, createRunningPod, eventually, freshNamespace } from "../harness/kube.ts";
import { loopbackAddress, startLeakyApp } from "../harness/goapps.ts";
import { createLeakWatch, fastSpec, status } from "../harness/leakwatch.ts";
import { startOperator } from "../harness/operator.ts";

/** A pprof endpoint that demands a bearer token, serving a real Go heap profile; it counts requests. */
async function guardedTarget(
  token: string,
  profile: Buffer,
): Promise<{ host: string; port: number; requests: () => number; authorized: () => number }> {
  let requests = 0;
  let authorized = 0;
  const host = loopbackAddress(150 + Math.floor(Math.random() * 50));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests++;
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end("unauthorized");
      return;
    }
    authorized++;
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(profile);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  onTestFinished(() => {
    server.close();
  });
  return {
    host,
    port: (server.address() as { port: number }).port,
    requests: () => requests,
    authorized: () => authorized,
  };
}

describe("security boundaries", () => {
  it("never watches or scrapes pods in another namespace, even with a selector that matches everything", async () => {
    const [mine, theirs] = [await freshNamespace("own"), await freshNamespace("other")];
    const app = await startLeakyApp({ behaviour: "idle" });
    const spy = await guardedTarget("irrelevant", Buffer.alloc(0));
    await createRunningPod({
      namespace: mine,
      name: "mine",
      podIP: app.host,
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(app.port) },
    });
    await createRunningPod({
      namespace: theirs,
      name: "theirs",
      podIP: spy.host,
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(spy.port) },
    });
    await createLeakWatch(mine, "lw", fastSpec({ selector: {} }));
    const operator = await startOperator({ args: ["--leader-elect=false", "--status-min-interval=1"] });
    await eventually("own pod scraped", async () =>
      /leakwatch_scrapes_total\{kind="heap",result="ok"\} [3-9]/.test(await operator.metrics())
        ? true
        : undefined,
    );
    // Status is written on its own schedule, after the scrapes counted above.
    await eventually("own pod counted in status", async () =>
      (await status(mine, "lw")).watched === 1 ? true : undefined,
    );
    expect(spy.requests()).toBe(0);
    await operator.stop();
  });

  it("refuses metadata and link-local pod IPs and non-pprof paths, and says why", async () => {
    const ns = await freshNamespace("refuse");
    await createRunningPod({
      namespace: ns,
      name: "metadata",
      podIP: "169.254.169.254",
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": "80" },
    });
    await createRunningPod({
      namespace: ns,
      name: "linklocal",
      podIP: "169.254.10.10",
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": "80" },
    });
    const app = await startLeakyApp({ behaviour: "idle" });
    await createRunningPod({
      namespace: ns,
      name: "admin-path",
      podIP: app.host,
      annotations: {
        "leakwatch.dev/scrape": "true",
        "leakwatch.dev/port": String(app.port),
        "leakwatch.dev/path": "/behaviour",
      },
    });
    await createLeakWatch(ns, "lw", fastSpec());
    const operator = await startOperator({
      args: ["--leader-elect=false", "--status-min-interval=1", `--namespaces=${ns}`],
    });
    const ready = await eventually("the skipped pods reported", async () => {
      const c = (await status(ns, "lw")).conditions?.find((x) => x.type === "Ready");
      return c?.message.includes("skipped") === true ? c : undefined;
    });
    expect(ready.message).toContain("metadata (pod IP refused: 169.254.169.254 is a cloud metadata address)");
    expect(ready.message).toContain("linklocal (pod IP refused: 169.254.10.10 is link-local)");
    expect(ready.message).toContain("admin-path (path /behaviour is not under /debug/pprof/");
    expect((await status(ns, "lw")).watched).toBe(0);
    expect(await operator.metrics()).not.toMatch(/leakwatch_scrapes_total\{kind="heap"/);
    await operator.stop();
  });

  it("reads the bearer token only from the LeakWatch's namespace and never reveals it", async () => {
    const [mine, theirs] = [await freshNamespace("tok"), await freshNamespace("tok-other")];
    const token = `s3cret-${Math.random().toString(36).slice(2)}`;
    const app = await startLeakyApp({ behaviour: "idle" });
    const profile = Buffer.from(
      await (await fetch(`http://${app.host}:${app.port}/debug/pprof/heap`)).arrayBuffer(),
    );
    const target = await guardedTarget(token, profile);
    const { core } = clients();
    // The secret exists only in the other namespace first: the LeakWatch must not find it there.
    await core.createNamespacedSecret({
      namespace: theirs,
      body: { metadata: { name: "pprof-token" }, stringData: { token } },
    });
    await createRunningPod({
      namespace: mine,
      name: "guarded",
      podIP: target.host,
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(target.port) },
    });
    await createLeakWatch(
      mine,
      "lw",
      fastSpec({ target: { auth: { bearerTokenSecret: { name: "pprof-token", key: "token" } } } }),
    );
    const operator = await startOperator({
      args: ["--leader-elect=false", "--status-min-interval=1", `--namespaces=${mine}`],
    });
    await eventually("failing without the secret", async () =>
      (await status(mine, "lw")).failing === 1 ? true : undefined,
    );
    expect(target.authorized()).toBe(0);

    await core.createNamespacedSecret({
      namespace: mine,
      body: { metadata: { name: "pprof-token" }, stringData: { token } },
    });
    await eventually("scraped with the token", () => (target.authorized() >= 2 ? true : undefined), {
      timeoutMs: 90_000,
    });
    await eventually(
      "status recovers",
      async () => ((await status(mine, "lw")).failing === 0 ? true : undefined),
      { timeoutMs: 60_000 },
    );

    const events = JSON.stringify((await clients().events.listNamespacedEvent({ namespace: mine })).items);
    const lw = JSON.stringify(await status(mine, "lw"));
    const logs = operator.process.tail(1 << 20);
    await operator.stop();
    for (const [where, text] of [
      ["events", events],
      ["status", lw],
      ["logs", logs],
    ] as const) {
      expect(text.includes(token), `token leaked into ${where}`).toBe(false);
    }
  });

  it("keeps status bounded whatever the pods say: 25 pods with 100 KiB image names", async () => {
    const ns = await freshNamespace("bounded");
    const app = await startLeakyApp({ behaviour: "idle" });
    const huge = (i: number): string => `registry.example/${"x".repeat(100 * 1024)}:${i}`;
    for (let i = 0; i < 25; i++) {
      await createRunningPod({
        namespace: ns,
        name: `p${i}`,
        podIP: app.host,
        image: huge(i),
        annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(app.port) },
      });
    }
    await createLeakWatch(ns, "lw", fastSpec());
    const operator = await startOperator({
      args: ["--leader-elect=false", "--status-min-interval=1", `--namespaces=${ns}`],
    });
    // 25 pods, 25 workloads (bare pods) of one image each: the table keeps 20 rows, each bounded.
    const s = await eventually(
      "all 25 watched, the workload table written",
      async () => {
        const st = await status(ns, "lw");
        return st.watched === 25 && st.workloads?.length === 20 ? st : undefined;
      },
      { timeoutMs: 120_000 },
    );
    expect(JSON.stringify(s).length).toBeLessThan(64 * 1024);
    for (const w of s.workloads ?? []) expect(w.image?.length ?? 0).toBeLessThanOrEqual(256);
    await operator.stop();
  });
});
