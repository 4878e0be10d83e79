// Pod churn: hundreds of pods created and deleted while they are being scraped (one of the
// services they point at is slow, so deletions land mid-scrape). At the end: status counts only
// the pods that exist, no per-pod metric series or persisted state is left for a deleted pod, and
// the operator's live heap (after a full GC, through its inspector) has not grown with the churn.
import { describe, it } from "vitest";
import { Inspector } from "../../bench/scale/inspector.ts";
import { eachLimited } from "../../src/kube/concurrency.ts";
import { fastSpec, status } from "../harness/leakwatch.ts";
import { startOperator } from "../harness/operator.ts";
import { createWatchedPod, deletePod } from "./harness/cluster.ts";
import { persistedHistory } from "./harness/history.ts";
import { crashViolations, moreScrapes } from "./harness/operators.ts";
import { FaultRun, runNumbers } from "./harness/results.ts";
import { FLAT, describeState, scenario, waitFor } from "./harness/scenario.ts";

const ROUNDS = 6;
const BATCH = 50;
const RECOVER_BOUND_MS = 30_000;
/** Live heap growth allowed across the churn (noise of caches that fill once, not per pod). */
const HEAP_GROWTH_BOUND = 12 << 20;

/** Pods named in the operator's per-pod metric series. */
function podsInMetrics(text: string, namespace: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^leakwatch_\w+\{([^}]*)\}/gm)) {
    const labels = m[1] ?? "";
    if (!labels.includes(`namespace="${namespace}"`)) continue;
    const pod = /pod="([^"]+)"/.exec(labels)?.[1];
    if (pod !== undefined) out.add(pod);
  }
  return out;
}

describe("pod churn", () => {
  for (const run of runNumbers()) {
    it(`${ROUNDS * BATCH} pods created and deleted while scraping: run ${run}`, async (ctx) => {
      const r = new FaultRun(ctx, `pod churn (${ROUNDS * BATCH} pods created and deleted)`, run);
      const flat = { ...FLAT, extraArgs: [...FLAT.extraArgs] };
      const s = await scenario(
        "churn",
        [
          { name: "anchor-a", ...flat },
          { name: "anchor-b", ...flat },
          { name: "anchor-slow", ...flat, fault: "slow", slowMs: 1_500 },
        ],
        fastSpec(),
      );
      const operator = await startOperator({
        args: s.args,
        name: `churn-${run}`,
        env: { NODE_OPTIONS: "--inspect=127.0.0.1:0" },
      });
      s.pids.push(operator.process.pid);
      r.keepLog(operator);
      const url =
        (await operator.process.waitForOutput(/Debugger listening on (ws:\/\/\S+)/, 10_000))[1] ?? "";
      const inspector = await Inspector.connect(url);
      ctx.onTestFinished(() => {
        inspector.close();
      });
      const endpoints = [...s.targets.values()];
      const live = new Set(["anchor-a", "anchor-b", "anchor-slow"]);
      const watchedIs = async (n: number, what: string): Promise<void> => {
        await waitFor(
          what,
          async () => ((await status(s.namespace, "lw")).watched === n ? true : undefined),
          { timeoutMs: 60_000, intervalMs: 200 },
          () => describeState(s, () => operator.process.tail(20_000)),
        );
      };
      await watchedIs(3, "the anchors watched");
      await moreScrapes(operator, 20);
      const heap0 = (await inspector.liveHeap()).usedSize;

      let previous: string[] = [];
      const heaps: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const batch = Array.from({ length: BATCH }, (_, i) => `churn-${round}-${i}`);
        await eachLimited(
          batch.map((name, i) => ({ name, target: endpoints[i % endpoints.length] })),
          8,
          async ({ name, target }) => {
            if (target === undefined) return;
            await createWatchedPod(s.client, s.namespace, name, target);
            live.add(name);
          },
        );
        await watchedIs(live.size, `round ${round}: ${live.size} pods watched`);
        await moreScrapes(operator, BATCH);
        await eachLimited(previous, 8, async (name) => {
          await deletePod(s.client, s.namespace, name);
          live.delete(name);
        });
        previous = batch;
        if (round === Math.floor(ROUNDS / 2) - 1) heaps.push((await inspector.liveHeap()).usedSize);
      }
      await eachLimited(previous, 8, async (name) => {
        await deletePod(s.client, s.namespace, name);
        live.delete(name);
      });
      const lastDeleteAt = Date.now();
      await waitFor(
        "only the anchors left, in status and in metrics",
        async () => {
          const st = await status(s.namespace, "lw");
          const series = podsInMetrics(await operator.metrics(), s.namespace);
          return st.watched === live.size && [...series].every((p) => live.has(p)) ? true : undefined;
        },
        { timeoutMs: RECOVER_BOUND_MS + 30_000, intervalMs: 250 },
        async () =>
          `series for: ${[...podsInMetrics(await operator.metrics(), s.namespace)]
            .filter((p) => !live.has(p))
            .slice(0, 20)
            .join(", ")}\n${await describeState(s, () => operator.process.tail(20_000))}`,
      );
      r.recovered(Date.now() - lastDeleteAt, RECOVER_BOUND_MS);
      await moreScrapes(operator, 30);
      const stray = [...podsInMetrics(await operator.metrics(), s.namespace)].filter((p) => !live.has(p));
      if (stray.length > 0)
        r.violation(`metric series left for ${stray.length} deleted pods (${stray.slice(0, 5).join(", ")})`);
      const st = await status(s.namespace, "lw");
      const ghosts = (st.pods ?? []).filter((p) => !live.has(p.pod));
      if (ghosts.length > 0)
        r.violation(`status rows for deleted pods: ${ghosts.map((p) => p.pod).join(", ")}`);
      const heap1 = (await inspector.liveHeap()).usedSize;
      const mid = heaps[0] ?? heap1;
      const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
      r.note(`live heap after GC: ${mib(heap0)} before, ${mib(mid)} half-way, ${mib(heap1)} after the churn`);
      if (heap1 - heap0 > HEAP_GROWTH_BOUND)
        r.violation(`live heap grew ${mib(heap1 - heap0)} over the churn`);
      inspector.close(); // an attached debugger would hold the process at exit
      await operator.stop(); // SIGTERM: saves state
      const saved = [...(await persistedHistory(s.client, s.owner)).keys()].map((k) => k.split("/")[1] ?? "");
      const stale = saved.filter((p) => !live.has(p));
      if (stale.length > 0) r.violation(`persisted state kept for ${stale.length} deleted pods`);
      r.violations(await crashViolations(operator, "clean"));
      r.assertClean();
    });
  }
});
