// Watches that go silent, and streams cut, between the operator and the API server: a TCP proxy
// in the middle stalls every open connection (a dead NAT entry: no error, no bytes) or resets
// them all. The operator runs as in production, with leader election on. Recovery: a pod created
// after the fault is watched and scraped, and one deleted is dropped.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "vitest";
import { startLeakyApp } from "../harness/goapps.ts";
import { controlPlane } from "../harness/kube.ts";
import { status } from "../harness/leakwatch.ts";
import { startOperator, type OperatorProcess } from "../harness/operator.ts";
import { TcpProxy, kubeconfigVia } from "../harness/tcp-proxy.ts";
import { createWatchedPod, deletePod } from "./harness/cluster.ts";
import { FaultTarget } from "./harness/fault-target.ts";
import { crashViolations, isLeader, moreScrapes } from "./harness/operators.ts";
import { FaultRun, runNumbers } from "./harness/results.ts";
import { FLAT, describeState, scenario, waitFor, type Scenario } from "./harness/scenario.ts";
import { fastSpec } from "../harness/leakwatch.ts";

/** The informer restarts a watch that delivered nothing for 90 s; then backs off at most 30 s. */
const SILENT_BOUND_MS = 150_000;
const CUT_BOUND_MS = 30_000;

async function proxiedOperator(
  s: Scenario,
  name: string,
): Promise<{ proxy: TcpProxy; operator: OperatorProcess }> {
  const proxy = TcpProxy.to(controlPlane().server);
  await proxy.start();
  const dir = await mkdtemp(join(tmpdir(), "lw-faults-proxy-"));
  const kubeconfig = await kubeconfigVia(proxy, controlPlane().kubeconfigPath, dir);
  const operator = await startOperator({
    kubeconfig,
    name,
    args: [
      "--status-min-interval=1",
      `--namespaces=${s.namespace}`,
      `--leader-election-namespace=${s.namespace}`,
      "--leader-election-id=leakwatch-faults",
    ],
  });
  s.pids.push(operator.process.pid);
  return { proxy, operator };
}

/** Creates a pod (behind its own target) after the fault; resolves when it is watched and scraped. */
async function lateArrival(s: Scenario, operator: OperatorProcess, boundMs: number): Promise<number> {
  const started = Date.now();
  const app = await startLeakyApp({ ...FLAT, extraArgs: [...FLAT.extraArgs] });
  const target = await FaultTarget.start({ upstream: app, owners: () => s.pids });
  await createWatchedPod(s.client, s.namespace, "late", target);
  await waitFor(
    "the pod created after the fault watched and scraped",
    async () =>
      (await status(s.namespace, "lw")).watched === 2 &&
      target.requests.some((q) => q.pid === operator.process.pid && q.endedAt !== undefined)
        ? true
        : undefined,
    { timeoutMs: boundMs + 60_000, intervalMs: 250 },
    () => describeState(s, () => operator.process.tail(20_000)),
  );
  return Date.now() - started;
}

/** One watched pod, and the operator behind a TCP proxy, leading and watching it. */
async function leadingBehindProxy(
  name: string,
  run: number,
  r: FaultRun,
  ctx: Pick<TestContext, "onTestFinished">,
): Promise<{ s: Scenario; proxy: TcpProxy; operator: OperatorProcess }> {
  const s = await scenario(
    name,
    [{ name: "steady", ...FLAT, extraArgs: [...FLAT.extraArgs] }],
    fastSpec(),
    [],
  );
  const { proxy, operator } = await proxiedOperator(s, `${name}-${run}`);
  r.keepLog(operator);
  ctx.onTestFinished(async () => {
    await proxy.stop();
  });
  await waitFor(
    "leading and watching",
    async () =>
      (await isLeader(operator)) && (await status(s.namespace, "lw")).watched === 1 ? true : undefined,
    { timeoutMs: 60_000, intervalMs: 250 },
    () => describeState(s, () => operator.process.tail(20_000)),
  );
  return { s, proxy, operator };
}

describe.concurrent("watch faults", () => {
  for (const run of runNumbers()) {
    it(`watches go silent: run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, "watch streams go silent (TCP stall)", run);
      const { s, proxy, operator } = await leadingBehindProxy("silent", run, r, ctx);
      await moreScrapes(operator, 3);
      // Every open connection goes silent; new ones work (as after a NAT or load balancer loses state).
      proxy.stall({ newConnections: false });
      const recoverMs = await lateArrival(s, operator, SILENT_BOUND_MS);
      r.recovered(recoverMs, SILENT_BOUND_MS);
      // The watch works again: a deletion is seen at once.
      await deletePod(s.client, s.namespace, "steady");
      await waitFor(
        "the deleted pod dropped",
        async () => ((await status(s.namespace, "lw")).watched === 1 ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 250 },
        () => describeState(s, () => operator.process.tail(20_000)),
      );
      if (!(await isLeader(operator))) r.violation("lost the lease while only old connections were silent");
      const restartedWatches = operator.logs().filter((l) => l.msg === "list/watch failed; retrying").length;
      r.note(`watches restarted ${restartedWatches} time(s); ${proxy.acceptedTotal} connections in all`);
      proxy.resume();
      await operator.stop();
      r.violations(await crashViolations(operator, "clean"));
      r.assertClean();
    });

    it(`streams cut: run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, "API streams cut (TCP reset x3)", run);
      const { s, proxy, operator } = await leadingBehindProxy("cut", run, r, ctx);
      for (let i = 0; i < 3; i++) {
        await moreScrapes(operator, 2);
        proxy.cutAll();
      }
      const recoverMs = await lateArrival(s, operator, CUT_BOUND_MS);
      r.recovered(recoverMs, CUT_BOUND_MS);
      if (!(await isLeader(operator))) r.violation("lost the lease over three connection resets");
      await operator.stop();
      r.violations(await crashViolations(operator, "clean"));
      r.assertClean();
    });
  }
});
