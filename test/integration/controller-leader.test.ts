// One leader among replicas; hand-over on SIGTERM; history that survives an operator restart.
import { describe, expect, it } from "vitest";
import { clients, createRunningPod, eventually, freshNamespace } from "../harness/kube.ts";
import { startLeakyApp } from "../harness/goapps.ts";
import { createLeakWatch, fastSpec, status } from "../harness/leakwatch.ts";
import { startOperator, type OperatorProcess } from "../harness/operator.ts";

async function isLeader(op: OperatorProcess): Promise<boolean> {
  return /^leakwatch_leader 1$/m.test(await op.metrics());
}

describe("controller: leadership and history", () => {
  it("elects exactly one leader of two, and hands over on SIGTERM", async () => {
    const ns = await freshNamespace("leader");
    const app = await startLeakyApp({ behaviour: "idle" });
    await createRunningPod({
      namespace: ns,
      name: "p",
      podIP: app.host,
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(app.port) },
    });
    await createLeakWatch(ns, "lw", fastSpec());
    const args = [
      `--leader-election-namespace=${ns}`,
      "--leader-election-id=leakwatch",
      `--namespaces=${ns}`,
      "--status-min-interval=1",
    ];
    const [one, two] = await Promise.all([startOperator({ args }), startOperator({ args })]);
    const leader = await eventually("a leader", async () => {
      const flags = await Promise.all([isLeader(one), isLeader(two)]);
      return flags.filter(Boolean).length === 1 ? (flags[0] ? one : two) : undefined;
    });
    const standby = leader === one ? two : one;
    expect(await isLeader(standby)).toBe(false);
    expect(/^leakwatch_scrapes_total\{/m.test(await standby.metrics())).toBe(false); // the standby never scrapes
    await eventually("the leader watches the pod", async () =>
      (await status(ns, "lw")).watched === 1 ? true : undefined,
    );
    const readyz = await fetch(`http://127.0.0.1:${standby.metricsPort}/readyz`);
    expect(readyz.status).toBe(200); // a standby is ready: it must not block rollouts

    const handedAt = Date.now();
    await leader.stop();
    expect(await leader.process.exited).toBe(0);
    await eventually("the standby takes over", async () => ((await isLeader(standby)) ? true : undefined), {
      timeoutMs: 20_000,
    });
    // Released, not expired: well under the 15 s lease duration.
    expect(Date.now() - handedAt).toBeLessThan(12_000);
    const lease = await clients().coordination.readNamespacedLease({ namespace: ns, name: "leakwatch" });
    expect(lease.spec?.holderIdentity).toMatch(/^operator-\d+_[0-9a-f]{8}$/);
    await standby.stop();
  });

  it("continues the detection window after an operator restart instead of starting blind", async () => {
    const ns = await freshNamespace("history");
    const app = await startLeakyApp({ behaviour: "idle" });
    await createRunningPod({
      namespace: ns,
      name: "p",
      podIP: app.host,
      annotations: { "leakwatch.dev/scrape": "true", "leakwatch.dev/port": String(app.port) },
    });
    await createLeakWatch(ns, "lw", fastSpec());
    const args = ["--leader-elect=false", `--namespaces=${ns}`, "--status-min-interval=1"];
    const first = await startOperator({ args });
    await eventually(
      "a verdict past Collecting",
      // Any judged verdict (an idle service's heap may look Suspected over a one-minute window).
      async () => {
        const st = await status(ns, "lw");
        return st.watched === 1 && st.collecting === 0 ? true : undefined;
      },
      // About 20 s at test speed; a loaded machine can starve the scrapes for much longer.
      { timeoutMs: 180_000 },
    );
    await first.stop(); // SIGTERM: state is persisted on the way out
    const cms = await clients().core.listNamespacedConfigMap({
      namespace: ns,
      labelSelector: "leakwatch.dev/leakwatch=lw",
    });
    expect(cms.items.length).toBeGreaterThan(0);

    const second = await startOperator({ args });
    // The restored history gives a verdict at the first scrape: it is never Collecting again.
    await eventually("scraping again", async () =>
      /leakwatch_scrapes_total\{kind="heap",result="ok"\} [1-9]/.test(await second.metrics())
        ? true
        : undefined,
    );
    const restored = second.logs().find((l) => l.msg === "restored detector history");
    expect(restored).toMatchObject({ targets: 1 });
    const s = await status(ns, "lw");
    expect(s.watched).toBe(1);
    expect(s.collecting).toBe(0);
    await second.stop();
  });
});
