// The operator killed mid-restart sequence (action.mode Restart, strategy Evict). An admission gate
// holds the eviction, so the kill lands exactly after the Pending restart record is stored in
// status and before the eviction happens (then the eviction is refused), or exactly after the
// API server admitted it. Two pods of the workload leak; the budget allows one restart: whatever
// the kill left, the next operator must not restart twice, nor without the stored capture.
import { describe, it, type TestContext } from "vitest";
import type { RestartRecord } from "../../src/api/types.ts";
import { clients, eventually } from "../harness/kube.ts";
import { startLeakyApp } from "../harness/goapps.ts";
import { fastSpec, status } from "../harness/leakwatch.ts";
import { startOperator } from "../harness/operator.ts";
import { createHandWorkload, podExists } from "../harness/workloads.ts";
import { freshNamespace, kubeClient } from "../harness/kube.ts";
import { createLeakWatch } from "../harness/leakwatch.ts";
import { auditCaptures } from "./harness/captures.ts";
import { AdmissionGate } from "./harness/gate.ts";
import { crashViolations } from "./harness/operators.ts";
import { FaultRun, runNumbers } from "./harness/results.ts";
import { FLAT, waitFor, within } from "./harness/scenario.ts";

const DETECTION_MS = 300_000;
const BUDGET = { restarts: 1, per: "1h" };
const COOLDOWN_MS = 10 * 60_000;

interface RestartSetup {
  ns: string;
  gate: AdmissionGate;
  pods: string[];
  args: string[];
}

async function restartSetup(ctx: Pick<TestContext, "onTestFinished">, prefix: string): Promise<RestartSetup> {
  const ns = await freshNamespace(prefix);
  const client = await kubeClient();
  const evict = async (pod: string): Promise<void> => {
    await client.create(`/api/v1/namespaces/${ns}/pods/${pod}/eviction`, {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: pod, namespace: ns },
    });
  };
  await clients().core.createNamespacedPod({
    namespace: ns,
    body: { metadata: { name: "gate-probe" }, spec: { containers: [{ name: "c", image: "none" }] } },
  });
  const gate = await AdmissionGate.start({
    client,
    namespace: ns,
    rule: { apiGroups: [""], apiVersions: ["v1"], resources: ["pods/eviction"] },
    probe: async () => evict("gate-probe"),
  });
  ctx.onTestFinished(async () => {
    await gate.close();
  });
  const leaky = async (): Promise<{ app: Awaited<ReturnType<typeof startLeakyApp>> }> => ({
    app: await startLeakyApp({ behaviour: "slice", rate: "512KiB" }),
  });
  const web = await createHandWorkload(ns, "web", [
    await leaky(),
    await leaky(),
    { app: await startLeakyApp({ ...FLAT, extraArgs: [...FLAT.extraArgs] }) },
  ]);
  await createLeakWatch(
    ns,
    "lw",
    fastSpec({
      action: {
        mode: "Restart",
        restart: { strategy: "Evict", budget: BUDGET, cooldown: "10m", maxUnavailable: 1 },
      },
    }),
  );
  return {
    ns,
    gate,
    pods: web.pods,
    args: ["--leader-elect=false", "--status-min-interval=1", `--namespaces=${ns}`],
  };
}

/** Guardrails, read from what the API server admitted and what status recorded. */
async function guardrails(r: FaultRun, setup: RestartSetup): Promise<RestartRecord[]> {
  const evictions = setup.gate.allowed().filter((q) => q.subResource === "eviction");
  if (evictions.length > BUDGET.restarts)
    r.violation(`${evictions.length} evictions admitted, budget ${BUDGET.restarts} per ${BUDGET.per}`);
  const times = evictions.map((e) => e.at).sort((a, b) => a - b);
  for (let i = 1; i < times.length; i++) {
    if ((times[i] ?? 0) - (times[i - 1] ?? 0) < COOLDOWN_MS) r.violation("two evictions within the cooldown");
  }
  // maxUnavailable 1: nothing recreates an evicted pod here, so a second eviction would break it.
  const gone = (await Promise.all(setup.pods.map(async (p) => podExists(setup.ns, p)))).filter(
    (e) => !e,
  ).length;
  if (gone > 1) r.violation(`${gone} pods of the workload unavailable, maxUnavailable 1`);
  const records = (await status(setup.ns, "lw")).restarts ?? [];
  const counting = records.filter(
    (x) => x.dryRun !== true && (x.result === "Restarted" || x.result === "Pending"),
  );
  if (counting.length > BUDGET.restarts)
    r.violation(`${counting.length} restart records count, budget ${BUDGET.restarts}`);
  const whole = new Set((await auditCaptures(await kubeClient(), setup.ns)).whole.map((c) => c.name));
  for (const rec of counting) {
    if (rec.capture === undefined || !whole.has(rec.capture))
      r.violation(
        `restart of ${rec.pod} (${rec.result ?? "?"}) without its stored capture (${rec.capture ?? "none named"})`,
      );
  }
  if (gone !== evictions.length) r.violation(`${gone} pods gone but ${evictions.length} evictions admitted`);
  return records;
}

describe.concurrent("operator SIGKILL mid-restart", () => {
  for (const run of runNumbers()) {
    for (const variant of ["before the eviction", "after the eviction"] as const) {
      it(`${variant}: run ${run}`, async (ctx) => {
        const r = new FaultRun(ctx, `SIGKILL mid-restart (record stored, ${variant})`, run);
        const setup = await restartSetup(
          ctx,
          variant === "before the eviction" ? "kill-evict-a" : "kill-evict-b",
        );
        setup.gate.holdNext(1);
        const first = await startOperator({
          args: setup.args,
          name: `kill-restart-${run}-${variant.split(" ")[0] ?? ""}-a`,
        });
        r.keepLog(first);
        const held = await within("the eviction", DETECTION_MS, setup.gate.nextHeld());
        const victim = held.request.name;
        const pending = (await status(setup.ns, "lw")).restarts?.find((x) => x.pod === victim);
        if (pending?.result !== "Pending")
          r.violation(`no Pending record stored before the eviction (${JSON.stringify(pending)})`);
        if (variant === "after the eviction") {
          held.release(true);
          await eventually(
            "the pod evicted",
            async () => ((await podExists(setup.ns, victim)) ? undefined : true),
            {
              timeoutMs: 30_000,
              intervalMs: 20,
            },
          );
        }
        const killedAt = Date.now();
        first.kill();
        await first.process.exited;
        if (variant === "before the eviction") held.release(false);

        const second = await startOperator({
          args: setup.args,
          name: `kill-restart-${run}-${variant.split(" ")[0] ?? ""}-b`,
        });
        r.keepLog(second);
        const other = setup.pods.find((p, i) => i < 2 && p !== victim) ?? "";
        // Recovered: the victim restarted (once), and its record counts against the budget. A
        // record whose pod is gone stays Pending (still counting) when the kill beat the outcome:
        // only a scrape of the pod itself settles it, and the pod is gone (noted, not a guardrail).
        await waitFor(
          "the victim evicted, its record counting",
          async () => {
            const rec = (await status(setup.ns, "lw")).restarts?.find((x) => x.pod === victim);
            const counts = rec?.result === "Restarted" || rec?.result === "Pending";
            return counts && !(await podExists(setup.ns, victim)) ? true : undefined;
          },
          { timeoutMs: 180_000, intervalMs: 500 },
          async () => `${JSON.stringify(await status(setup.ns, "lw"))}\n${second.process.tail(10_000)}`,
        );
        r.recovered(Date.now() - killedAt, 60_000);
        // The other pod leaks too: once it is Leaking, the budget (spent by the victim) holds it.
        await waitFor(
          "the other leaking pod held by the budget",
          async () => {
            const events = (await clients().events.listNamespacedEvent({ namespace: setup.ns })).items;
            return events.some(
              (e) =>
                e.reason === "RestartBudgetExhausted" &&
                e.regarding?.name === other &&
                e.reportingInstance?.startsWith(second.process.name) === true,
            )
              ? true
              : undefined;
          },
          { timeoutMs: DETECTION_MS, intervalMs: 1_000 },
          async () => `${JSON.stringify(await status(setup.ns, "lw"))}\n${second.process.tail(10_000)}`,
        );
        const records = await guardrails(r, setup);
        r.note(`records: ${records.map((x) => `${x.pod}:${x.result ?? "?"}`).join(", ")}`);
        if (!(await podExists(setup.ns, other)))
          r.violation("the second leaking pod was restarted over the budget");
        await second.stop();
        r.violations(await crashViolations(first, "killed"));
        r.violations(await crashViolations(second, "clean"));
        r.assertClean();
      });
    }
  }
});
