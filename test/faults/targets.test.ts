// Targets that misbehave, next to a leaking service and a healthy one. Bad targets: they hang,
// trickle bytes, reset connections, answer 500, send profiles over the caps (a huge gzip stream, a
// declared huge length, a gzip bomb) or corrupt ones. The leak must still be caught, the healthy
// service still scraped on time, each bad one reported once (not a storm of events) with its
// reason, the operator's memory bounded; healed, they all recover. Flapping: a service that
// leaks, stops, leaks again — events aggregate, verdicts follow and come back to Healthy.
import { describe, it } from "vitest";
import { clients } from "../harness/kube.ts";
import { fastSpec, podRow, status } from "../harness/leakwatch.ts";
import { startOperator } from "../harness/operator.ts";
import { auditCaptures } from "./harness/captures.ts";
import type { TargetFault } from "./harness/fault-target.ts";
import { crashViolations } from "./harness/operators.ts";
import { rssBytes } from "./harness/procfs.ts";
import { FaultRun, runNumbers } from "./harness/results.ts";
import { FLAT, describeState, scenario, trackStatus, waitFor, type PodPlan } from "./harness/scenario.ts";

/** Each bad behaviour and what the operator must say about it. */
const BAD: readonly { fault: TargetFault; reason: RegExp }[] = [
  { fault: "hang", reason: /took longer than/ },
  { fault: "trickle", reason: /took longer than/ },
  { fault: "reset", reason: /cannot fetch .*(ECONNRESET|socket hang up|connection)/i },
  { fault: "status500", reason: /returned HTTP 500/ },
  { fault: "oversize", reason: /larger than the limit of \d+ compressed bytes/ },
  { fault: "oversizeDeclared", reason: /larger than the limit of \d+ compressed bytes/ },
  { fault: "gzipBomb", reason: /inflates to more than the limit/ },
  { fault: "corrupt", reason: /not gzip/ },
  { fault: "garbageProto", reason: /not a valid pprof profile|no "inuse_space"/ },
  { fault: "truncated", reason: /corrupt|unexpected end|truncated/i },
];

const podName = (f: TargetFault): string => `bad-${f.toLowerCase()}`;

/**
 * Faults at other targets must never stop the healthy neighbour from being scraped (Failing).
 * Its verdicts are recorded, not judged here: it is a 4 MiB Go heap read through the heap profile's
 * 512 KiB sampling, at demo speed (1 s scrapes, a one-minute window), where the detector at times
 * calls such noise `Leaking` unless told the sampling error (opt-in `--weigh-sampling-error`;
 * docs/detection.md, "Sampling noise"). Detector precision is the detector benchmarks' to judge.
 */
function neighbourFaults(r: FaultRun, seen: ReadonlySet<string> | undefined): void {
  if (seen === undefined || seen.size === 0) {
    r.violation("the healthy neighbour's verdict was never read");
    return;
  }
  if (seen.has("Failing")) r.violation(`the healthy neighbour was Failing (seen: ${[...seen].join(", ")})`);
  r.note(`healthy neighbour's rows seen: ${[...seen].join(", ")} (- = Healthy)`);
}

const DETECTION_MS = 300_000;
/** A failing target is retried after at most 8 intervals; a hanging attempt ends at the 10 s timeout. */
const HEAL_BOUND_MS = 8_000 + 10_000 + 10_000;
/** RSS ceiling while bad targets are served (a 17 MiB stream, a 256 MiB bomb, per scrape). */
const RSS_CEILING = 400 << 20;

describe.concurrent("target faults", () => {
  for (const run of runNumbers()) {
    it(`bad targets, then healed: run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, "targets hang/trickle/reset/500/huge/corrupt", run);
      const plans: PodPlan[] = [
        { name: "leaky", behaviour: "slice", rate: "512KiB" },
        { name: "steady", ...FLAT, extraArgs: [...FLAT.extraArgs] },
        ...BAD.map((b) => ({
          name: podName(b.fault),
          ...FLAT,
          extraArgs: [...FLAT.extraArgs],
          fault: b.fault,
        })),
      ];
      const s = await scenario("badtargets", plans, fastSpec());
      const operator = await startOperator({ args: s.args, name: `badtargets-${run}` });
      s.pids.push(operator.process.pid);
      r.keepLog(operator);
      let maxRss = 0;
      const sampler = setInterval(() => {
        try {
          maxRss = Math.max(maxRss, rssBytes(operator.process.pid));
        } catch {
          // exited
        }
      }, 500);
      const neighbour = trackStatus(s, Date.now(), ["steady"]);
      ctx.onTestFinished(() => {
        clearInterval(sampler);
        neighbour.stop();
      });
      const caught = await waitFor(
        "the leak caught and every bad target reported failing",
        async () => {
          const st = await status(s.namespace, "lw");
          const failing = BAD.every((b) => podRow(st, podName(b.fault))?.verdict === "Failing");
          return podRow(st, "leaky")?.verdict === "Leaking" && (st.captures?.length ?? 0) > 0 && failing
            ? st
            : undefined;
        },
        { timeoutMs: DETECTION_MS, intervalMs: 1_000 },
        () => describeState(s, () => operator.process.tail(20_000)),
      );
      for (const b of BAD) {
        const error = podRow(caught, podName(b.fault))?.lastError ?? "";
        if (!b.reason.test(error)) r.violation(`${b.fault}: reported as ${JSON.stringify(error)}`);
      }
      neighbourFaults(r, neighbour.seen.get("steady"));
      // The healthy service was scraped on time throughout: bad targets never held up the others.
      const steady = (s.targets.get("steady")?.requests ?? [])
        .filter((q) => q.path.startsWith("/debug/pprof/heap"))
        .map((q) => q.at);
      const gaps = steady.slice(1).map((t, i) => t - (steady[i] ?? t));
      const worstGap = Math.max(0, ...gaps.slice(3));
      if (worstGap > 5_000)
        r.violation(`the healthy service went ${worstGap} ms between scrapes (interval 1 s)`);
      // One ScrapeFailing event object per bad pod: repeats aggregate.
      const events = (await clients().events.listNamespacedEvent({ namespace: s.namespace })).items;
      for (const b of BAD) {
        const objects = events.filter(
          (e) => e.reason === "ScrapeFailing" && e.regarding?.name === podName(b.fault),
        );
        if (objects.length !== 1)
          r.violation(`${objects.length} ScrapeFailing events for ${b.fault} (expected 1)`);
      }
      if (maxRss > RSS_CEILING) r.violation(`operator RSS reached ${(maxRss / 2 ** 20).toFixed(0)} MiB`);
      r.note(
        `operator RSS peaked at ${(maxRss / 2 ** 20).toFixed(0)} MiB; healthy service's worst scrape gap ${worstGap} ms`,
      );

      const healedAt = Date.now();
      await Promise.all([...s.targets.values()].map(async (t) => t.setFault("none")));
      await waitFor(
        "every healed target scraped again",
        async () => ((await status(s.namespace, "lw")).failing === 0 ? true : undefined),
        { timeoutMs: HEAL_BOUND_MS + 60_000, intervalMs: 250 },
        () => describeState(s, () => operator.process.tail(20_000)),
      );
      r.recovered(Date.now() - healedAt, HEAL_BOUND_MS);
      await waitFor(
        "every healed target judged",
        async () => ((await status(s.namespace, "lw")).collecting === 0 ? true : undefined),
        { timeoutMs: 120_000, intervalMs: 250 },
        () => describeState(s, () => operator.process.tail(20_000)),
      );
      r.note(
        `healed targets judged (past Collecting) ${Math.round((Date.now() - healedAt) / 1000)} s after the heal`,
      );
      const final = await status(s.namespace, "lw");
      if (podRow(final, "leaky")?.verdict !== "Leaking") r.violation("the leak was forgotten after the heal");
      await operator.stop();
      r.violations(await crashViolations(operator, "clean"));
      r.assertClean();
    });

    it(`flapping between leaking and healthy: run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, "target flaps leaking <-> healthy (2 cycles)", run);
      const s = await scenario(
        "flap",
        [
          { name: "flappy", behaviour: "slice", rate: "1MiB" },
          { name: "steady", ...FLAT, extraArgs: [...FLAT.extraArgs] },
        ],
        // gc=1: in-use bytes as of now, not as of the last GC (which a large retained heap makes rare).
        fastSpec({ target: { forceGC: true } }),
      );
      const operator = await startOperator({ args: s.args, name: `flap-${run}` });
      s.pids.push(operator.process.pid);
      r.keepLog(operator);
      const app = s.apps.get("flappy");
      if (app === undefined) throw new Error("no flappy app");
      const t0 = Date.now();
      const timeline = trackStatus(s, t0, ["flappy", "steady"]);
      ctx.onTestFinished(() => {
        timeline.stop();
        r.note(`status: ${timeline.lines.join(" | ")}`);
      });
      const verdict = async (): Promise<string> => {
        const st = await status(s.namespace, "lw");
        // A pod without a row in a status that watches both is Healthy (rows list the others).
        return podRow(st, "flappy")?.verdict ?? (st.watched === 2 ? "Healthy" : "?");
      };
      const cycles = 2;
      let healthyAt = 0;
      for (let cycle = 1; cycle <= cycles; cycle++) {
        if (cycle > 1) await app.setBehaviour("slice");
        await waitFor(
          `Leaking (cycle ${cycle})`,
          async () => ((await verdict()) === "Leaking" ? true : undefined),
          { timeoutMs: DETECTION_MS, intervalMs: 500 },
          () => describeState(s, () => operator.process.tail(20_000)),
        );
        await app.setBehaviour("idle");
        const idleAt = Date.now();
        await waitFor(
          `Healthy again (cycle ${cycle})`,
          async () => ((await verdict()) === "Healthy" ? true : undefined),
          { timeoutMs: DETECTION_MS, intervalMs: 500 },
          () => describeState(s, () => operator.process.tail(20_000)),
        );
        healthyAt = Date.now() - idleAt;
        r.note(`cycle ${cycle}: Healthy ${Math.round(healthyAt / 1000)} s after the leak stopped`);
      }
      r.recovered(healthyAt, 180_000);
      const events = (await clients().events.listNamespacedEvent({ namespace: s.namespace })).items.filter(
        (e) => e.regarding?.kind === "Pod" && e.regarding.name === "flappy",
      );
      const byReason = new Map<string, number>();
      for (const e of events) byReason.set(e.reason ?? "", (byReason.get(e.reason ?? "") ?? 0) + 1);
      r.note(`event objects on the pod: ${JSON.stringify(Object.fromEntries(byReason))}`);
      for (const [reason, count] of byReason) {
        if (count > 1)
          r.violation(`${count} ${reason} event objects on one pod in one flapping run: not aggregated`);
      }
      const detected = events.find((e) => e.reason === "MemoryLeakDetected");
      if ((detected?.series?.count ?? 1) < 1) r.violation("MemoryLeakDetected lost its count");
      const audit = await auditCaptures(s.client, s.namespace);
      const flappyCaptures = audit.whole.filter((c) => c.pod === "flappy").length;
      r.note(`${flappyCaptures} captures for ${cycles} leak episodes`);
      if (flappyCaptures > cycles) r.violation(`${flappyCaptures} captures for ${cycles} leak episodes`);
      neighbourFaults(r, timeline.seen.get("steady"));
      if (timeline.seen.get("steady")?.has("Leaking") === true) {
        // What the detector said about the neighbour: the reasons are in the event's message.
        const said = (await clients().events.listNamespacedEvent({ namespace: s.namespace })).items
          .filter((e) => e.regarding?.name === "steady")
          .map((e) => `${e.reason ?? ""}: ${e.note ?? ""}`);
        r.note(`the neighbour's events: ${said.join(" | ")}`);
      }
      await operator.stop();
      r.violations(await crashViolations(operator, "clean"));
      r.assertClean();
    });
  }
});
