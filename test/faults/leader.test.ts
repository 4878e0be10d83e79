// Leadership under fault. Lost and regained: the leader's connection to the API server stalls (a
// partition), so it cannot renew; it must stop acting at its renew deadline, before the standby
// may take over at lease expiry, and exit; restarted, it stands by, and regains the lease when the
// other replica hands it over. Racing: three replicas start at once on a fresh lease; exactly one
// ever scrapes. Who scraped when is read at the target (each request traced to its process).
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
import { CONFIG_DEFAULTS } from "../../src/controller/config.ts";
import { clients, controlPlane, eventually } from "../harness/kube.ts";
import { fastSpec } from "../harness/leakwatch.ts";
import { startOperator, type OperatorProcess } from "../harness/operator.ts";
import { TcpProxy, kubeconfigVia } from "../harness/tcp-proxy.ts";
import { checkContinuity, persistedHistory } from "./harness/history.ts";
import { crashViolations, isLeader } from "./harness/operators.ts";
import { FaultRun, runNumbers } from "./harness/results.ts";
import { FLAT, describeState, lastSamples, scenario, waitFor, type Scenario } from "./harness/scenario.ts";

const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = CONFIG_DEFAULTS;
const INTERVAL_MS = 1_000;
/** Detector state is saved every 30 s at test speed; a lease expiry adds the renew deadline. */
const PERSIST_BOUND_S = 30 + renewDeadlineMs / 1000 + 5;

function leaseArgs(s: Scenario): string[] {
  return [
    "--status-min-interval=1",
    `--namespaces=${s.namespace}`,
    `--leader-election-namespace=${s.namespace}`,
    "--leader-election-id=leakwatch-faults",
  ];
}

async function viaProxy(): Promise<{ proxy: TcpProxy; kubeconfig: string }> {
  const proxy = TcpProxy.to(controlPlane().server);
  await proxy.start();
  const dir = await mkdtemp(join(tmpdir(), "lw-faults-leader-"));
  return { proxy, kubeconfig: await kubeconfigVia(proxy, controlPlane().kubeconfigPath, dir) };
}

/** Request times (start) at the scenario's target by `pid`. */
function scrapesBy(s: Scenario, pid: number): number[] {
  return [...s.targets.values()].flatMap((t) => t.requests.filter((q) => q.pid === pid).map((q) => q.at));
}

function logTime(op: OperatorProcess, msg: string): number | undefined {
  const t = op.logs().find((l) => l.msg === msg)?.time;
  return typeof t === "number" ? t : undefined;
}

describe("leader faults", () => {
  for (const run of runNumbers()) {
    it(`leader partitioned, lease lost, regained: run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, "leader partitioned: lease lost, then regained", run);
      const s = await scenario(
        "leader",
        [{ name: "steady", ...FLAT, extraArgs: [...FLAT.extraArgs] }],
        fastSpec(),
        [],
      );
      const [pa, pb] = [await viaProxy(), await viaProxy()];
      ctx.onTestFinished(async () => {
        await Promise.all([pa.proxy.stop(), pb.proxy.stop()]);
      });
      const args = leaseArgs(s);
      const [a, b] = await Promise.all([
        startOperator({ kubeconfig: pa.kubeconfig, args, name: `leader-${run}-a` }),
        startOperator({ kubeconfig: pb.kubeconfig, args, name: `leader-${run}-b` }),
      ]);
      s.pids.push(a.process.pid, b.process.pid);
      r.keepLog(a, b);
      const leader = await waitFor(
        "one leader, scraping",
        async () => {
          const flags = [await isLeader(a), await isLeader(b)];
          if (flags.filter(Boolean).length !== 1) return undefined;
          const l = flags[0] === true ? a : b;
          return scrapesBy(s, l.process.pid).length >= 4 ? l : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
        () => describeState(s, () => a.process.tail(10_000) + b.process.tail(10_000)),
      );
      const standby = leader === a ? b : a;
      const leaderProxy = leader === a ? pa.proxy : pb.proxy;
      // Enough history to be worth keeping, persisted.
      await eventually(
        "history persisted",
        async () =>
          [...(await persistedHistory(s.client, s.owner)).values()].some((d) => d.verdict !== "Collecting")
            ? true
            : undefined,
        { timeoutMs: 90_000, intervalMs: 1_000 },
      );

      // The partition: the leader's every connection, open or new, goes silent.
      const partitionedAt = Date.now();
      leaderProxy.stall();
      await waitFor(
        "the standby leading and scraping",
        () => (scrapesBy(s, standby.process.pid).length > 0 ? true : undefined),
        { timeoutMs: 60_000, intervalMs: 100 },
        () => describeState(s, () => standby.process.tail(20_000)),
      );
      r.recovered(Date.now() - partitionedAt, leaseDurationMs + 2 * retryPeriodMs + 5_000);
      await waitFor(
        "the partitioned leader to exit",
        () => (leader.process.running ? undefined : true),
        {
          timeoutMs: 60_000,
          intervalMs: 100,
        },
        () => leader.process.tail(10_000),
      );
      const leaderLast = Math.max(...scrapesBy(s, leader.process.pid));
      const standbyFirst = Math.min(...scrapesBy(s, standby.process.pid));
      if (!(leaderLast < standbyFirst))
        r.violation(
          `two leaders scraped at once: old leader's last scrape ${leaderLast - standbyFirst} ms after the new one's first`,
        );
      const stoppedAt = logTime(leader, "leader election lost: stopped scraping and acting");
      if (stoppedAt === undefined) r.violation("the partitioned leader never said it stopped");
      else if (stoppedAt - partitionedAt > renewDeadlineMs + 3_000)
        r.violation(
          `the partitioned leader acted ${stoppedAt - partitionedAt} ms into the partition (renew deadline ${renewDeadlineMs} ms)`,
        );
      if (leaderLast - partitionedAt > renewDeadlineMs + INTERVAL_MS + 2_000)
        r.violation(`the partitioned leader scraped ${leaderLast - partitionedAt} ms into the partition`);
      r.note(
        `old leader stopped ${stoppedAt === undefined ? "?" : stoppedAt - partitionedAt} ms and last scraped ${leaderLast - partitionedAt} ms into the partition; the standby first scraped at ${standbyFirst - partitionedAt} ms`,
      );
      // What the new leader restored is what the old one persisted: read it before the new one saves.
      const before = await persistedHistory(s.client, s.owner);
      const lastBefore = lastSamples(s, leader.process.pid, Date.now());
      // The network heals; what the dead process had in flight is lost with it.
      leaderProxy.cutAll();
      leaderProxy.resume();

      // Restarted (as its Deployment would), the old leader is a standby now…
      const back = await startOperator({
        kubeconfig: leader === a ? pa.kubeconfig : pb.kubeconfig,
        args,
        name: `leader-${run}-c`,
      });
      s.pids.push(back.process.pid);
      r.keepLog(back);
      await waitFor(
        "the restarted replica standing by",
        async () => ((await back.metrics()).includes("leakwatch_leader 0") ? true : undefined),
        {
          timeoutMs: 30_000,
          intervalMs: 250,
        },
        () => back.process.tail(10_000),
      );
      // …and regains the lease when the current leader hands it over (SIGTERM: persist, release).
      const handedAt = Date.now();
      await standby.stop();
      await waitFor(
        "the restarted replica leading and scraping",
        () => (scrapesBy(s, back.process.pid).length > 0 ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 100 },
        () => describeState(s, () => back.process.tail(20_000)),
      );
      r.note(`regained ${Date.now() - handedAt} ms after the hand-over began`);
      if (Date.now() - handedAt > 2 * retryPeriodMs + 10_000)
        r.violation("the hand-over took longer than two retry periods and a shutdown");
      const standbyLast = Math.max(...scrapesBy(s, standby.process.pid));
      if (!(standbyLast < Math.min(...scrapesBy(s, back.process.pid))))
        r.violation("two leaders scraped at once during the hand-over");
      const after = await persistedHistory(s.client, s.owner);
      const continuity = checkContinuity(before, after, lastBefore, 60_000, PERSIST_BOUND_S, partitionedAt);
      r.violations(continuity.violations);
      r.dataLost(continuity.lostSeconds);
      const holder = (
        await clients().coordination.readNamespacedLease({ namespace: s.namespace, name: "leakwatch-faults" })
      ).spec?.holderIdentity;
      if (holder?.startsWith(`leader-${run}-c_`) !== true)
        r.violation(`the lease is held by ${holder ?? "nobody"}`);
      await back.stop();
      r.violations(await crashViolations(leader, "lostLease"));
      r.violations(await crashViolations(standby, "clean"));
      r.violations(await crashViolations(back, "clean"));
      r.assertClean();
    });

    it(`three replicas racing at start: run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, "three replicas racing for a fresh lease", run);
      const s = await scenario(
        "race",
        [{ name: "steady", ...FLAT, extraArgs: [...FLAT.extraArgs] }],
        fastSpec(),
        [],
      );
      const args = leaseArgs(s);
      const started = Date.now();
      const ops = await Promise.all(
        [0, 1, 2].map(async (i) => startOperator({ args, name: `race-${run}-${i}` })),
      );
      s.pids.push(...ops.map((o) => o.process.pid));
      r.keepLog(...ops);
      let overlaps = 0;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const leaders = (await Promise.all(ops.map(isLeader))).filter(Boolean).length;
        if (leaders > 1) overlaps++;
        await new Promise((res) => setTimeout(res, 200));
      }
      if (overlaps > 0) r.violation(`${overlaps} samples with two leaders`);
      const scrapers = new Set([...s.targets.values()].flatMap((t) => t.requests.map((q) => q.pid)));
      if (scrapers.size !== 1) r.violation(`${scrapers.size} replicas scraped (${[...scrapers].join(", ")})`);
      const firstScrape = Math.min(...[...s.targets.values()].flatMap((t) => t.requests.map((q) => q.at)));
      r.recovered(firstScrape - started, 30_000);
      const leading = ops.filter((o) => o.logs().some((l) => l.msg === "started leading"));
      if (leading.length !== 1) r.violation(`${leading.length} replicas started leading`);
      await Promise.all(ops.map(async (o) => o.stop()));
      for (const o of ops) r.violations(await crashViolations(o, "clean"));
      r.assertClean();
    });
  }
});
