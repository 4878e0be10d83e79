// `npm run bench:soak`: the operator for a long run at accelerated intervals — a few hundred
// targets (bench/scale's fleet: one Go process serving real heap profiles on many loopback
// addresses) scraped every 2 s, so a 20-minute run is 600 scrape cycles, ten hours at the default
// 60 s interval — with every connection to the API server cut every few minutes (a TCP proxy in
// between), so the watches reconnect. Every few seconds: the operator's own heap and RSS (its
// /metrics), file descriptors and sockets (/proc). At the end: a summary of each series and the
// project's own detector's verdict on the memory series. A leak detector must not leak.
//
//   --minutes N        run length (default 20)
//   --targets N        fleet size (default 300)
//   --interval S       the LeakWatch's scrape interval in seconds (default 2)
//   --sample S         sampling period in seconds (default 5)
//   --cut-every S      cut every API connection this often (default 180)
//   --warmup S         start-up excluded from the verdicts (default 180)
//   --heap-snapshots   also write V8 heap snapshots after warm-up and at the end, and compare them
//   --out DIR          keep samples, logs and snapshots there (default: a temporary directory)
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  LEAKWATCH,
  NAMESPACE,
  createNamespaceAndLeakWatch,
  createPods,
  installCrd,
  openClient,
} from "../scale/cluster.ts";
import { buildFleet, fleetProfiles, startFleet } from "../scale/fleet.ts";
import { startOperator } from "../scale/operator.ts";
import { parseProm, sum } from "../scale/prom.ts";
import { startControlPlane } from "../../src/localcluster/controlplane.ts";
import { ProcessGroup } from "../../src/localcluster/processes.ts";
import { descriptorCounts } from "../../test/faults/harness/procfs.ts";
import { TcpProxy, kubeconfigVia } from "../../test/harness/tcp-proxy.ts";
import { byConstructor, growth } from "./heapsnapshot.ts";
import { formatSummary, judge, soakDetectorConfig, summarize, type Point } from "./series.ts";
import { formatBytes } from "../../src/detect/index.ts";

const { values: flags } = parseArgs({
  options: {
    minutes: { type: "string", default: "20" },
    targets: { type: "string", default: "300" },
    interval: { type: "string", default: "2" },
    sample: { type: "string", default: "5" },
    "cut-every": { type: "string", default: "180" },
    warmup: { type: "string", default: "180" },
    "heap-snapshots": { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const num = (name: string, value: string, min: number): number => {
  const n = Number(value);
  if (!(n >= min)) throw new Error(`--${name} must be a number ≥ ${min}`);
  return n;
};
const runMs = num("minutes", flags.minutes, 1) * 60_000;
const targets = Math.floor(num("targets", flags.targets, 1));
const intervalS = num("interval", flags.interval, 1);
const sampleMs = num("sample", flags.sample, 1) * 1000;
const cutEveryMs = num("cut-every", flags["cut-every"], 10) * 1000;
const warmupMs = num("warmup", flags.warmup, 0) * 1000;

const began = Date.now();
const say = (line: string): void => {
  console.error(`[${((Date.now() - began) / 1000).toFixed(0).padStart(5)} s] ${line}`);
};
const outDir = flags.out ?? mkdtempSync(join(tmpdir(), "leakwatch-soak-"));
mkdirSync(outDir, { recursive: true });
const group = new ProcessGroup(join(outDir, "processes"), flags.out === undefined);
const sleep = async (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Row {
  t: number;
  heapUsed: number;
  rss: number;
  fds: number;
  sockets: number;
  tcp: number;
  scrapesOk: number;
  scrapesFailed: number;
  watchRestarts: number;
}

async function main(): Promise<number> {
  say(
    `soak: ${targets} targets every ${intervalS} s for ${runMs / 60_000} min; connections cut every ${cutEveryMs / 1000} s; out ${outDir}`,
  );
  const cp = await startControlPlane({ dir: join(outDir, "control-plane"), onProgress: say });
  const proxy = TcpProxy.to(cp.server);
  try {
    await installCrd(cp);
    const client = await openClient(cp);
    await createNamespaceAndLeakWatch(client);
    await client.patch(
      `/apis/leakwatch.dev/v1alpha1/namespaces/${NAMESPACE}/leakwatches/${LEAKWATCH}`,
      { spec: { interval: `${intervalS}s`, detection: { window: "10m", warmup: "30s" } } },
      "merge",
    );
    say("building the fleet");
    const fleet = await startFleet(group, buildFleet(), fleetProfiles(), targets);
    await createPods(client, 0, targets, fleet.port, new Date());
    await proxy.start();
    const kubeconfig = await kubeconfigVia(proxy, cp.kubeconfigPath, outDir);
    if (flags["heap-snapshots"])
      process.env.NODE_OPTIONS = `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${outDir}`;
    const op = await startOperator(group, {
      kubeconfig,
      namespace: NAMESPACE,
      name: "soak-operator",
      extraArgs: [
        `--leader-elect=true`,
        `--leader-election-namespace=${NAMESPACE}`,
        "--status-min-interval=5",
      ],
    });
    say(`operator pid ${op.pid}; sampling every ${sampleMs / 1000} s`);
    const rows: Row[] = [];
    const cuts: number[] = [];
    let nextCut = Date.now() + cutEveryMs;
    const snapshots: string[] = [];
    const end = Date.now() + runMs;
    while (Date.now() < end) {
      const text = await op.metrics();
      const m = parseProm(text);
      const fd = descriptorCounts(op.pid);
      rows.push({
        t: Date.now(),
        heapUsed: sum(m, "nodejs_heap_size_used_bytes"),
        rss: sum(m, "process_resident_memory_bytes"),
        fds: fd.fds,
        sockets: fd.sockets,
        tcp: fd.tcpEstablished,
        scrapesOk: sum(m, "leakwatch_scrapes_total", (l) => l.kind === "heap" && l.result === "ok"),
        scrapesFailed: sum(m, "leakwatch_scrapes_total", (l) => l.kind === "heap" && l.result !== "ok"),
        watchRestarts: proxy.acceptedTotal,
      });
      if (Date.now() >= nextCut) {
        proxy.cutAll();
        cuts.push(Date.now());
        nextCut += cutEveryMs;
        say(`cut every API connection (${cuts.length}); ${rows.at(-1)?.scrapesOk ?? 0} scrapes so far`);
      }
      if (flags["heap-snapshots"] && snapshots.length === 0 && Date.now() - began > warmupMs) {
        snapshots.push(await heapSnapshot(op.pid));
      }
      await sleep(sampleMs - ((Date.now() - began) % sampleMs));
    }
    if (flags["heap-snapshots"]) snapshots.push(await heapSnapshot(op.pid));
    await op.stop();
    const code = await op.process.exited;
    const log = readFileSync(op.process.logPath, "utf8");
    const crashes = log
      .split("\n")
      .filter((l) => /Unhandled|uncaught|FATAL ERROR|heap out of memory/i.test(l));
    writeFileSync(
      join(outDir, "samples.csv"),
      ["t,heap_used,rss,fds,sockets,tcp_established,scrapes_ok,scrapes_failed,api_connections"]
        .concat(
          rows.map((r) =>
            [
              r.t,
              r.heapUsed,
              r.rss,
              r.fds,
              r.sockets,
              r.tcp,
              r.scrapesOk,
              r.scrapesFailed,
              r.watchRestarts,
            ].join(","),
          ),
        )
        .join("\n"),
    );
    const report = render(rows, cuts, code, crashes, snapshots);
    writeFileSync(join(outDir, "report.txt"), report);
    console.log(report);
    client.close();
    return code === 0 && crashes.length === 0 ? 0 : 1;
  } finally {
    await proxy.stop();
    await group.stopAll(10_000);
    await cp.stop();
  }
}

/** SIGUSR2 makes the operator write a snapshot into the out directory; waits until it is whole. */
async function heapSnapshot(pid: number): Promise<string> {
  const before = new Set(readdirSync(outDir).filter((f) => f.endsWith(".heapsnapshot")));
  process.kill(pid, "SIGUSR2");
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    const fresh = readdirSync(outDir).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    if (fresh === undefined) continue;
    const path = join(outDir, fresh);
    const size = statSync(path).size;
    await sleep(1_000);
    if (existsSync(path) && statSync(path).size === size && size > 0) {
      say(`heap snapshot ${path} (${formatBytes(size)})`);
      return path;
    }
  }
  throw new Error("no heap snapshot written");
}

function render(
  rows: readonly Row[],
  cuts: readonly number[],
  code: number | null,
  crashes: readonly string[],
  snapshots: readonly string[],
): string {
  const t0 = rows[0]?.t ?? 0;
  const last = rows.at(-1);
  const series = (f: (r: Row) => number): Point[] => rows.map((r) => ({ t: r.t, v: f(r) }));
  const config = soakDetectorConfig(sampleMs, (last?.t ?? t0) - t0, warmupMs);
  const lines: string[] = [];
  const minutes = ((last?.t ?? t0) - t0) / 60_000;
  const scrapes = last?.scrapesOk ?? 0;
  lines.push(
    `Soak: ${minutes.toFixed(1)} min, ${targets} targets every ${intervalS} s (${(scrapes / targets).toFixed(0)} scrape cycles = ${(((scrapes / targets) * 60) / 3600).toFixed(1)} h at a 60 s interval), ${scrapes} scrapes ok, ${last?.scrapesFailed ?? 0} failed`,
    `API connections cut ${cuts.length} times (watches re-established each time); ${last?.watchRestarts ?? 0} connections opened in all`,
    `operator exit code ${String(code)}; crash lines in its log: ${crashes.length}`,
    "",
    `Verdicts of LeakWatch's own detector (window ${(config.windowMs / 60_000).toFixed(0)} min, warm-up ${(warmupMs / 1000).toFixed(0)} s, sample every ${sampleMs / 1000} s):`,
  );
  for (const [name, f] of [
    ["heap", (r: Row) => r.heapUsed],
    ["RSS", (r: Row) => r.rss],
  ] as const) {
    const a = judge(series(f), config);
    const heap = a?.heap;
    lines.push(
      `  ${name.padEnd(5)} ${heap?.verdict ?? "?"}${heap?.slopePerHour === null || heap === undefined ? "" : `  (Theil–Sen ${formatBytes(heap.slopePerHour)}/h, ${heap.slopePercentPerHour?.toFixed(2) ?? "?"} %/h)`}  ${heap?.reasons.slice(0, 2).join(" ") ?? ""}`,
    );
  }
  lines.push(
    "",
    `Series (slope: least squares after the warm-up; steady Δ: last minute's median minus the first steady minute's):`,
  );
  lines.push(
    formatSummary(
      "heap",
      summarize(
        series((r) => r.heapUsed),
        warmupMs,
      ),
      "bytes",
    ),
  );
  lines.push(
    formatSummary(
      "RSS",
      summarize(
        series((r) => r.rss),
        warmupMs,
      ),
      "bytes",
    ),
  );
  lines.push(
    formatSummary(
      "fds",
      summarize(
        series((r) => r.fds),
        warmupMs,
      ),
      "count",
    ),
  );
  lines.push(
    formatSummary(
      "sockets",
      summarize(
        series((r) => r.sockets),
        warmupMs,
      ),
      "count",
    ),
  );
  lines.push(
    formatSummary(
      "tcp",
      summarize(
        series((r) => r.tcp),
        warmupMs,
      ),
      "count",
    ),
  );
  // Across each cut: descriptors just before it, and a minute later (watches back).
  const around = cuts
    .map((c) => {
      const before = [...rows].reverse().find((r) => r.t < c);
      const after = rows.find((r) => r.t >= c + 60_000);
      return before === undefined || after === undefined
        ? undefined
        : { fds: after.fds - before.fds, sockets: after.sockets - before.sockets };
    })
    .filter((x) => x !== undefined);
  if (around.length > 0) {
    lines.push(
      `Across the ${around.length} cuts (a minute after minus just before): fds ${around.map((d) => (d.fds >= 0 ? `+${d.fds}` : String(d.fds))).join(" ")}; sockets ${around.map((d) => (d.sockets >= 0 ? `+${d.sockets}` : String(d.sockets))).join(" ")}`,
    );
  }
  if (snapshots.length === 2) {
    lines.push("", "Heap snapshot growth, warm-up to end (by constructor, self size):");
    for (const g of growth(byConstructor(snapshots[0] ?? ""), byConstructor(snapshots[1] ?? ""))) {
      lines.push(`  ${formatBytes(g.bytes).padStart(9)}  ${String(g.count).padStart(8)} objects  ${g.name}`);
    }
  }
  lines.push("", `Samples: ${join(outDir, "samples.csv")}`);
  return lines.join("\n");
}

process.exitCode = await main();
