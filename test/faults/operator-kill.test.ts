// The operator killed with SIGKILL mid-scrape and mid-capture, then started again (as the kubelet
// would). Mid-scrape: a slow target has a request in flight. Mid-capture: an admission gate holds
// the capture's manifest write, so the kill lands exactly after the parts are stored and before
// the manifest (and, in the second case, exactly after the manifest). Checked: history continues
// from the last persist, nothing but the killed attempt's parts is orphaned (and the product's
// sweeper removes them after its grace), no capture is duplicated, no crash.
import { describe, it, type TestContext } from "vitest";
import { ORPHAN_GRACE_MS } from "../../src/controller/reconciler.ts";
import { ConfigMapCaptureStore } from "../../src/kube/captures.ts";
import { CaptureIncompleteError } from "../../src/kube/capture-errors.ts";
import { LABELS } from "../../src/kube/ownership.ts";
import { clients, eventually } from "../harness/kube.ts";
import { fastSpec, podRow, status } from "../harness/leakwatch.ts";
import { startOperator } from "../harness/operator.ts";
import { auditCaptures, capturesPerPod } from "./harness/captures.ts";
import { AdmissionGate } from "./harness/gate.ts";
import { checkContinuity, persistedHistory } from "./harness/history.ts";
import { crashViolations } from "./harness/operators.ts";
import { FaultRun, runNumbers } from "./harness/results.ts";
import {
  FLAT,
  describeState,
  lastSamples,
  sampledBy,
  scenario,
  trackStatus,
  waitFor,
  within,
} from "./harness/scenario.ts";

/** Detector state is saved every max(3 intervals, 30 s); at test speed the interval is 1 s. */
const PERSIST_BOUND_S = 30 + 5;
const WINDOW_MS = 60_000;
/** Leak detection at test speed takes 1–3 minutes; more on a loaded machine. */
const DETECTION_MS = 300_000;

describe("operator SIGKILL mid-scrape", () => {
  for (const run of runNumbers()) {
    it(`run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, "SIGKILL mid-scrape (slow target)", run);
      const s = await scenario(
        "kill-scrape",
        [
          { name: "steady", ...FLAT, extraArgs: [...FLAT.extraArgs] },
          { name: "slow", ...FLAT, extraArgs: [...FLAT.extraArgs], fault: "slow", slowMs: 2_500 },
        ],
        fastSpec(),
      );
      const first = await startOperator({ args: s.args, name: `kill-scrape-${run}-a` });
      s.pids.push(first.process.pid);
      r.keepLog(first);
      // Wait for history worth keeping: both targets past Collecting, and persisted.
      await waitFor(
        "both targets persisted with a verdict",
        async () => {
          const h = await persistedHistory(s.client, s.owner);
          return [...h.values()].filter((d) => d.verdict !== "Collecting").length === 2 ? h : undefined;
        },
        { timeoutMs: 150_000, intervalMs: 2_000 },
        async () =>
          `persisted: ${JSON.stringify([...(await persistedHistory(s.client, s.owner))])}\n${await describeState(s, () => first.process.tail(20_000))}`,
      );
      const slow = s.targets.get("slow");
      if (slow === undefined) throw new Error("no slow target");
      const inFlight = await within(
        "a scrape of the slow target",
        30_000,
        slow.nextRequest((q) => q.pid === first.process.pid && q.path.startsWith("/debug/pprof/heap")),
      );
      const killedAt = Date.now();
      first.kill();
      await first.process.exited;
      r.note(`killed ${killedAt - inFlight.at} ms into a ${slow.slowMs} ms scrape`);
      const before = await persistedHistory(s.client, s.owner);
      const lastBefore = lastSamples(s, first.process.pid, killedAt);

      const second = await startOperator({ args: s.args, name: `kill-scrape-${run}-b` });
      s.pids.push(second.process.pid);
      r.keepLog(second);
      await waitFor(
        "the slow target scraped again and both verdicts restored",
        async () => {
          const done = slow.requests.some(
            (q) =>
              q.pid === second.process.pid &&
              q.endedAt !== undefined &&
              q.path.startsWith("/debug/pprof/heap"),
          );
          const st = await status(s.namespace, "lw");
          const judged = (st.healthy ?? 0) + (st.suspected ?? 0) + (st.leaking ?? 0);
          return done && judged === 2 && st.collecting === 0 && st.failing === 0 ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 200 },
        () => describeState(s, () => second.process.tail(20_000)),
      );
      r.recovered(Date.now() - killedAt, 30_000);
      ctx
        .expect(second.logs().find((l) => l.msg === "restored detector history"))
        .toMatchObject({ targets: 2 });
      await eventually(
        "two whole scrapes of each target by the new operator",
        () => (sampledBy(s, second.process.pid) >= 2 ? true : undefined),
        { timeoutMs: 60_000, intervalMs: 200 },
      );

      await second.stop(); // SIGTERM persists
      const after = await persistedHistory(s.client, s.owner);
      const continuity = checkContinuity(before, after, lastBefore, WINDOW_MS, PERSIST_BOUND_S, killedAt);
      r.violations(continuity.violations);
      r.dataLost(continuity.lostSeconds);
      r.violations(await crashViolations(first, "killed"));
      r.violations(await crashViolations(second, "clean"));
      const audit = await auditCaptures(s.client, s.namespace);
      if (audit.whole.length + audit.orphans.length > 0) r.violation("captures made for healthy targets");
      r.assertClean();
    });
  }
});

/** A LeakWatch on one leaking service, and a gate on its capture manifests. */
async function captureScenario(
  ctx: Pick<TestContext, "onTestFinished">,
  prefix: string,
): Promise<{
  s: Awaited<ReturnType<typeof scenario>>;
  gate: AdmissionGate;
}> {
  const s = await scenario(prefix, [{ name: "leaky", behaviour: "slice", rate: "512KiB" }], fastSpec());
  const probe = async (): Promise<void> => {
    const name = `gate-probe-${Date.now()}`;
    await clients().core.createNamespacedConfigMap({
      namespace: s.namespace,
      body: { metadata: { name, labels: { [LABELS.captureRole]: "probe" } } },
    });
    await clients().core.deleteNamespacedConfigMap({ namespace: s.namespace, name });
  };
  const gate = await AdmissionGate.start({
    client: s.client,
    namespace: s.namespace,
    rule: { apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"] },
    objectLabel: { key: LABELS.captureRole, values: ["manifest"] },
    probe,
  });
  ctx.onTestFinished(async () => {
    await gate.close();
  });
  return { s, gate };
}

describe.concurrent("operator SIGKILL mid-capture", () => {
  for (const run of runNumbers()) {
    it(`parts stored, manifest not: run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, "SIGKILL mid-capture (parts stored, no manifest)", run);
      const { s, gate } = await captureScenario(ctx, "kill-capture");
      gate.holdNext(1);
      const first = await startOperator({ args: s.args, name: `kill-capture-${run}-a` });
      s.pids.push(first.process.pid);
      r.keepLog(first);
      const held = await within("the capture's manifest write", DETECTION_MS, gate.nextHeld());
      const heldCapture = held.request.name;
      const parts = (await auditCaptures(s.client, s.namespace)).orphans.filter(
        (o) => o.capture === heldCapture,
      );
      ctx.expect(parts.length, "the capture's parts are stored before its manifest").toBeGreaterThan(0);
      // The Leaking verdict is saved while the capture is written (not after it).
      await waitFor(
        "the Leaking verdict persisted while the capture is held",
        async () =>
          (await persistedHistory(s.client, s.owner)).get(s.key("leaky"))?.verdict === "Leaking"
            ? true
            : undefined,
        { timeoutMs: 15_000, intervalMs: 250 },
        async () => JSON.stringify([...(await persistedHistory(s.client, s.owner))]),
      );
      const killedAt = Date.now();
      first.kill();
      await first.process.exited;
      held.release(false);
      const timeline = trackStatus(s, killedAt, ["leaky"]);
      ctx.onTestFinished(() => {
        timeline.stop();
        r.note(`status after the kill: ${timeline.lines.join(" | ")}`);
      });

      const second = await startOperator({ args: s.args, name: `kill-capture-${run}-b` });
      s.pids.push(second.process.pid);
      r.keepLog(second);
      const captured = await eventually(
        "a whole capture of the leak, in status",
        async () => {
          const st = await status(s.namespace, "lw");
          return st.captures?.find((c) => c.pod === "leaky" && c.complete && c.name !== heldCapture);
        },
        { timeoutMs: 120_000, intervalMs: 250 },
      );
      r.recovered(Date.now() - killedAt, 60_000);

      const audit = await auditCaptures(s.client, s.namespace);
      const perPod = capturesPerPod(audit).get("leaky") ?? 0;
      if (perPod !== 1) r.violation(`${perPod} whole captures of one leak (expected 1)`);
      r.violations(audit.unreadable.map((u) => `capture unreadable: ${u}`));
      const stray = audit.orphans.filter((o) => o.capture !== heldCapture);
      r.violations(stray.map((o) => `orphaned part ${o.part} not from the killed attempt`));
      const st = await status(s.namespace, "lw");
      if (st.captures?.some((c) => c.name === heldCapture) === true)
        r.violation("the incomplete capture is listed in status");
      const store = new ConfigMapCaptureStore({ client: s.client });
      await ctx.expect(store.get(s.namespace, heldCapture)).rejects.toBeInstanceOf(CaptureIncompleteError);
      // The sweeper, as the operator runs it, once its grace has passed: exactly the orphans go.
      const later = new ConfigMapCaptureStore({
        client: s.client,
        now: () => Date.now() + ORPHAN_GRACE_MS + 1_000,
      });
      const swept = await later.sweepOrphans(s.namespace, ORPHAN_GRACE_MS);
      ctx.expect(swept.sort()).toEqual(parts.map((p) => p.part).sort());
      const afterSweep = await auditCaptures(s.client, s.namespace);
      if (afterSweep.orphans.length > 0)
        r.violation(`${afterSweep.orphans.length} orphans left after the sweep`);
      if (!afterSweep.whole.some((c) => c.name === captured.name))
        r.violation("the sweep removed a whole capture");
      r.note(`killed with ${parts.length} part(s) stored; the new leader captured ${captured.name}`);

      const detected = (await clients().events.listNamespacedEvent({ namespace: s.namespace })).items.filter(
        (e) => e.reason === "MemoryLeakDetected" && e.regarding?.kind === "Pod",
      );
      if (detected.length !== 1)
        r.violation(`${detected.length} MemoryLeakDetected events on the pod (expected 1)`);
      await second.stop();
      r.violations(await crashViolations(first, "killed"));
      r.violations(await crashViolations(second, "clean"));
      r.assertClean();
    });

    it(`manifest just stored: run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, "SIGKILL right after a capture's manifest", run);
      const { s, gate } = await captureScenario(ctx, "kill-manifest");
      gate.holdNext(1);
      const first = await startOperator({ args: s.args, name: `kill-manifest-${run}-a` });
      s.pids.push(first.process.pid);
      r.keepLog(first);
      const held = await within("the capture's manifest write", DETECTION_MS, gate.nextHeld());
      held.release(true);
      const store = new ConfigMapCaptureStore({ client: s.client });
      await eventually(
        "the manifest stored",
        async () =>
          (await store.list(s.namespace)).some((c) => c.name === held.request.name) ? true : undefined,
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      const killedAt = Date.now();
      first.kill();
      await first.process.exited;
      const timeline = trackStatus(s, killedAt, ["leaky"]);
      ctx.onTestFinished(() => {
        timeline.stop();
        r.note(`status after the kill: ${timeline.lines.join(" | ")}`);
      });

      const second = await startOperator({ args: s.args, name: `kill-manifest-${run}-b` });
      s.pids.push(second.process.pid);
      r.keepLog(second);
      await eventually(
        "the capture in status, the leak reported",
        async () => {
          const st = await status(s.namespace, "lw");
          return podRow(st, "leaky")?.verdict === "Leaking" &&
            st.captures?.some((c) => c.name === held.request.name) === true
            ? true
            : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 250 },
      );
      r.recovered(Date.now() - killedAt, 60_000);
      // Let the new leader act on the leak for a while: it must not capture it again.
      await eventually(
        "20 scrapes by the new leader",
        () =>
          (s.targets.get("leaky")?.requests.filter((q) => q.pid === second.process.pid).length ?? 0) >= 40
            ? true
            : undefined,
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      const audit = await auditCaptures(s.client, s.namespace);
      const perPod = capturesPerPod(audit).get("leaky") ?? 0;
      if (perPod !== 1)
        r.violation(`${perPod} whole captures of one leak (expected 1: duplicated after the restart)`);
      if (audit.orphans.length > 0) r.violation(`${audit.orphans.length} orphaned parts`);
      await second.stop();
      r.violations(await crashViolations(first, "killed"));
      r.violations(await crashViolations(second, "clean"));
      r.assertClean();
    });
  }
});
