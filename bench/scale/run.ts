// `npm run bench:scale`: the operator at 500, 2,000 and 5,000 targets on a 60 s interval, against a
// real control plane and a fleet of simulated Go services serving real heap profiles. One fresh
// operator process per scale (so each scale's memory is its own, not the larger one's leftovers);
// the pods grow from scale to scale, and before each operator starts every target gets mature
// detector history in the state ConfigMaps, which the operator restores. Per scale: wait until
// every target has been scraped twice, then measure over a window of three intervals. Prints one
// table (a column per scale), the goals, and the per-target memory budget (budget.ts). See
// docs/scaling.md. About 16 minutes on 2 cores.
//
//   --quick            500 targets only (a smoke run, ~6 min)
//   --scales=a,b,c     other scales
//   --window=SECONDS   the measurement window (default 180: three intervals, which is also the
//                      detector-state persist period, so each window holds exactly one save)
//   --history=HOURS    detector history each target starts with (default 48: two daily cycles,
//                      the most the detector keeps; 0: fresh series)
//   --cpu-profile      record a CPU profile of each window (adds profiler overhead to the figures)
//   --heap-profile     sample live allocations from operator start to the window's end
//   --node-options=".." Node flags for the operator (default: the chart's --max-old-space-size=384,
//                      75% of its 512Mi memory limit)
//   --dist             run the compiled operator (tsc → dist/main.js, as the image does) instead of
//                      src/main.ts, which Node type-strips at load (about 30 MiB more RSS)
//   --out=DIR          keep logs and profiles there (default: a temporary directory, removed)
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { KubeClient } from "../../src/kube/client.ts";
import { startControlPlane, type ControlPlane } from "../../src/localcluster/controlplane.ts";
import { ProcessGroup } from "../../src/localcluster/processes.ts";
import {
  apiServerMetrics,
  createNamespaceAndLeakWatch,
  createPods,
  installCrd,
  LEAKWATCH,
  NAMESPACE,
  openClient,
  type PodRecord,
} from "./cluster.ts";
import { buildFleet, fleetProfiles, startFleet, type Fleet } from "./fleet.ts";
import { BASELINES_PART, budgetPart, budgetTotal, formatBudget, type BudgetLine } from "./budget.ts";
import { seedHistory } from "./history.ts";
import { cpuHotspots, heapHotspots, type Hotspot } from "./hotspots.ts";
import { figures, parseApiServerMetrics, parseOperatorMetrics, type Reading } from "./measure.ts";
import { buildDist, startOperator, type Operator } from "./operator.ts";
import { printReport, type ScaleResult } from "./report.ts";

const INTERVAL_S = 60;

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    scales: { type: "string" },
    window: { type: "string", default: String(3 * INTERVAL_S) },
    history: { type: "string", default: "48" },
    "cpu-profile": { type: "boolean", default: false },
    "heap-profile": { type: "boolean", default: false },
    out: { type: "string" },
    "node-options": { type: "string", default: "--max-old-space-size=384" },
    dist: { type: "boolean", default: false },
  },
});
const scales = (flags.quick ? "500" : (flags.scales ?? "500,2000,5000")).split(",").map(Number);
if (
  scales.some((s) => !Number.isInteger(s) || s < 1) ||
  scales.some((s, i) => i > 0 && s <= (scales[i - 1] ?? 0))
) {
  throw new Error("--scales must be increasing positive integers");
}
const windowS = Number(flags.window);
if (!(windowS >= 10)) throw new Error("--window must be at least 10 seconds");
const maxScale = scales[scales.length - 1] ?? 0;
const historyHours = Number(flags.history);
if (!(historyHours >= 0 && historyHours <= 24 * 7)) throw new Error("--history must be 0..168 hours");

const began = Date.now();
const elapsed = (): string => `${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s`;
const say = (line: string): void => {
  console.error(`[${elapsed()}] ${line}`);
};
const sleep = async (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const outDir = flags.out ?? mkdtempSync(join(tmpdir(), "leakwatch-bench-scale-"));
mkdirSync(outDir, { recursive: true });
const group = new ProcessGroup(join(outDir, "processes"), flags.out === undefined);
const nodeArgs = flags["node-options"].split(/\s+/).filter((a) => a !== "");
let operatorMain: string | undefined;

async function reading(op: Operator, client: KubeClient, fleet: Fleet): Promise<Reading> {
  const [operatorText, apiText, counts, bytes] = await Promise.all([
    op.metrics(),
    apiServerMetrics(client),
    fleet.heapCounts(),
    fleet.bytesServed(),
  ]);
  return {
    at: Date.now(),
    cpuSeconds: op.cpuSeconds(),
    operator: parseOperatorMetrics(operatorText),
    apiserver: parseApiServerMetrics(apiText),
    fleetHeapServed: counts.reduce((a, b) => a + b, 0),
    fleetBytes: bytes,
  };
}

/** Waits until each of the first `scale` targets has served `times` heap profiles since `from`. */
async function waitScraped(fleet: Fleet, scale: number, from: number[], times: number): Promise<void> {
  const deadline = Date.now() + (times + 3) * INTERVAL_S * 1000;
  let lastSaid = 0;
  for (;;) {
    const counts = await fleet.heapCounts();
    let behind = 0;
    for (let i = 0; i < scale; i++) if ((counts[i] ?? 0) - (from[i] ?? 0) < times) behind++;
    if (behind === 0) return;
    if (Date.now() > deadline) throw new Error(`${behind} of ${scale} targets not scraped ${times}× in time`);
    if (Date.now() - lastSaid > 30_000) {
      say(`  warming up: ${scale - behind}/${scale} targets scraped ${times}×`);
      lastSaid = Date.now();
    }
    await sleep(2_000);
  }
}

function printHotspots(title: string, unit: (n: number) => string, rows: readonly Hotspot[]): string {
  const lines = [title];
  for (const h of rows)
    lines.push(`  ${(h.share * 100).toFixed(1).padStart(5)}%  ${unit(h.amount).padStart(10)}  ${h.what}`);
  return lines.join("\n");
}

async function measureScale(
  scale: number,
  cp: ControlPlane,
  client: KubeClient,
  fleet: Fleet,
): Promise<{ result: ScaleResult; notes: string[] }> {
  const notes: string[] = [];
  const op = await startOperator(group, {
    kubeconfig: cp.kubeconfigPath,
    namespace: NAMESPACE,
    name: `operator-${scale}`,
    nodeArgs,
    ...(operatorMain === undefined ? {} : { main: operatorMain }),
  });
  const started = Date.now();
  if (flags["heap-profile"]) await (await op.inspector()).startHeapSampling();
  say(`operator for ${scale} targets started (pid ${op.pid})`);
  await waitScraped(fleet, scale, await fleet.heapCounts(), 2);
  const warmupS = (Date.now() - started) / 1000;
  say(`  steady state after ${warmupS.toFixed(0)} s; measuring for ${windowS} s`);

  const before = await reading(op, client, fleet);
  if (flags["cpu-profile"]) await (await op.inspector()).startCpuProfile();
  let peakRss = 0;
  let rssSum = 0;
  let rssSamples = 0;
  const windowEnd = before.at + windowS * 1000;
  while (Date.now() < windowEnd) {
    await sleep(Math.min(2_000, Math.max(0, windowEnd - Date.now())));
    const { rss } = op.memory();
    peakRss = Math.max(peakRss, rss);
    rssSum += rss;
    rssSamples++;
  }
  const after = await reading(op, client, fleet);
  const f = figures(before, after);
  const rssEnd = op.memory().rss;

  if (flags["cpu-profile"]) {
    const profile = await (await op.inspector()).stopCpuProfile();
    const file = join(outDir, `operator-${scale}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    const hot = cpuHotspots(profile);
    const ms = (n: number): string => `${n.toFixed(0)} ms`;
    notes.push(
      `CPU profile at ${scale} targets (${file}; ${(hot.totalMs / 1000).toFixed(1)} s busy in the window)`,
      printHotspots("self time by file:", ms, hot.files),
      printHotspots("self time by function:", ms, hot.functions),
      printHotspots("inclusive time of src/ functions:", ms, hot.inclusive),
    );
  }
  // A full GC, then the live heap and ArrayBuffers: what the targets really hold, free of GC timing.
  const live = await (await op.inspector()).liveHeap();
  const rssAfterGc = op.memory().rss;
  if (flags["heap-profile"]) {
    const profile = await (await op.inspector()).stopHeapSampling();
    const file = join(outDir, `operator-${scale}.heapprofile`);
    writeFileSync(file, JSON.stringify(profile));
    const hot = heapHotspots(profile);
    const kib = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
    notes.push(
      `live allocations at ${scale} targets, sampled (${file}; ${kib(hot.totalBytes)} in total)`,
      printHotspots("by allocating function:", kib, hot.functions),
      printHotspots("by innermost src/ frame on the stack:", kib, hot.owners),
    );
  }
  const watched = after.operator
    .filter((s) => s.name === "leakwatch_targets" && s.labels.leakwatch === LEAKWATCH)
    .reduce((a, s) => a + s.value, 0);
  await op.stop();
  say(`  done: ${f.scrapesPerMin.toFixed(0)} scrapes/min, ${f.cpuMsPerScrape.toFixed(2)} ms CPU/scrape`);
  return {
    result: {
      scale,
      watched,
      warmupS,
      window: f,
      rssEnd,
      rssMean: rssSamples > 0 ? rssSum / rssSamples : rssEnd,
      rssPeakWindow: peakRss,
      rssAfterGc,
      liveHeap: live.usedSize,
      liveArrayBuffers: live.arrayBuffers,
    },
    notes,
  };
}

const BUDGET_TARGETS = Math.min(maxScale, 1000);

/** The per-target budget (budget.ts), in a child with --expose-gc, before anything else runs. */
function memoryBudget(): BudgetLine[] {
  const script = join(dirname(fileURLToPath(import.meta.url)), "budget.ts");
  const out = execFileSync(
    process.execPath,
    ["--expose-gc", script, `--targets=${BUDGET_TARGETS}`, `--history=${historyHours}`, "--json"],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  return JSON.parse(out) as BudgetLine[];
}

async function main(): Promise<void> {
  say("building the fleet and its profiles (cached after the first run)");
  const bin = buildFleet();
  const profiles = fleetProfiles();
  if (flags.dist) {
    say("compiling the operator (tsc -p tsconfig.build.json)");
    operatorMain = buildDist(join(outDir, "build"));
  }
  say("weighing the per-target memory budget");
  const budget = memoryBudget();
  say("starting the control plane");
  const cp = await startControlPlane({
    onProgress: (line) => {
      say(`  ${line}`);
    },
  });
  let client: KubeClient | undefined;
  try {
    await installCrd(cp);
    const fleet = await startFleet(group, bin, profiles, maxScale);
    say(`fleet: ${maxScale} targets on 127.20.x.y:${fleet.port}`);
    client = await openClient(cp);
    await createNamespaceAndLeakWatch(client);
    const results: ScaleResult[] = [];
    const notes: string[] = [];
    const pods: PodRecord[] = [];
    // Containers started before the history begins, so the restored series fit their pods.
    const startedAt = new Date(Date.now() - (historyHours + 1) * 3_600_000);
    for (const scale of scales) {
      const t0 = Date.now();
      const c = client;
      const from = pods.length;
      pods.push(
        ...(await createPods(c, from, scale, fleet.port, startedAt, (n) => {
          say(`  pods: ${from + n}/${scale}`);
        })),
      );
      say(`${scale - from} pods created and Running in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      if (historyHours > 0) {
        const t1 = Date.now();
        const seeded = await seedHistory(c, pods, scale, historyHours, profiles.inuse);
        say(
          `${historyHours} h of detector history written for ${scale} targets ` +
            `(${(seeded.bytesPerTarget / 1024).toFixed(1)} KiB JSON each, ${seeded.result.shards} shards) ` +
            `in ${((Date.now() - t1) / 1000).toFixed(0)} s`,
        );
      }
      const measured = await measureScale(scale, cp, c, fleet);
      results.push(measured.result);
      notes.push(...measured.notes);
    }
    console.log(
      printReport(results, {
        intervalS: INTERVAL_S,
        windowS,
        smallBytes: profiles.smallBytes,
        largeBytes: profiles.largeBytes,
        profiling: flags["cpu-profile"] || flags["heap-profile"],
        historyHours,
        budgetBytesPerTarget: budgetTotal(budget),
        secondBaselineBytesPerTarget: budgetPart(budget, BASELINES_PART) / 2,
        operator: `${operatorMain === undefined ? "node src/main.ts" : "node dist/main.js (compiled)"}${nodeArgs.length > 0 ? ` with ${nodeArgs.join(" ")}` : ""}`,
      }),
    );
    console.log(`\n${formatBudget(budget, BUDGET_TARGETS)}`);
    for (const note of notes) console.log(`\n${note}`);
    say(
      `finished in ${((Date.now() - began) / 60_000).toFixed(1)} min${flags.out === undefined ? "" : `; logs and profiles in ${outDir}`}`,
    );
  } finally {
    client?.close();
    await group.stopAll();
    await cp.stop();
    if (flags.out === undefined) rmSync(outDir, { recursive: true, force: true });
  }
}

await main();
