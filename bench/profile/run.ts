// `npm run bench:profile`: the profile engine against its floor (gunzip), its peer
// (pprof-format) and `go tool pprof -top`, on real Go heap profiles of three sizes.
// Only ratios within one run mean anything: the machine may be shared and noisy.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { decodeProfileBytes, diffHeap, inuseBytes, summarizeHeap } from "../../src/profile/index.ts";
import type { PathName } from "./paths.ts";
import { PATHS } from "./paths.ts";
import { peerSummarize } from "./peer.ts";
import { benchProfiles } from "./profiles.ts";

const here = path.dirname(new URL(import.meta.url).pathname);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Median wall time in ms of fn over enough runs to fill ~budgetMs (at least minRuns). */
function time(fn: () => unknown, budgetMs: number, minRuns = 5): number {
  const warmUntil = performance.now() + budgetMs / 5;
  for (let i = 0; i < 3 || (i < 500 && performance.now() < warmUntil); i++) fn(); // JIT warm-up
  const runs: number[] = [];
  const start = performance.now();
  while (runs.length < minRuns || (performance.now() - start < budgetMs && runs.length < 2000)) {
    const t0 = performance.now();
    fn();
    runs.push(performance.now() - t0);
  }
  return median(runs);
}

function pprofBinary(): string | undefined {
  try {
    return execFileSync("go", ["tool", "-n", "pprof"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

function timePprof(bin: string, file: string): { ms: number; peakKiB: number | undefined } {
  const args = ["-top", "-sample_index=inuse_space", file];
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    execFileSync(bin, args, { stdio: "ignore" });
    runs.push(performance.now() - t0);
  }
  let peakKiB: number | undefined;
  if (existsSync("/usr/bin/time")) {
    const r = spawnSync("/usr/bin/time", ["-f", "%M", bin, ...args], { encoding: "utf8" });
    const last = r.stderr.trim().split("\n").pop();
    peakKiB = last === undefined ? undefined : Number(last);
  }
  return { ms: median(runs), peakKiB };
}

/** Peak RSS rise of one cold run of a path, in a fresh child process (median of 3). */
function peakRiseMiB(pathName: PathName, file: string): string {
  const script = path.join(here, "measure-memory.ts");
  const runs: { peakRiseKiB: number; exact: boolean }[] = [];
  for (let i = 0; i < 3; i++) {
    const out = execFileSync(process.execPath, [script, pathName, file], { encoding: "utf8" });
    runs.push(JSON.parse(out) as { peakRiseKiB: number; exact: boolean });
  }
  const peak = median(runs.map((r) => r.peakRiseKiB));
  return `${(peak / 1024).toFixed(1)}${runs.every((r) => r.exact) ? "" : "~"}`;
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);
const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
const mib = (kibibytes: number): string => (kibibytes / 1024).toFixed(1);

function main(): void {
  console.log(`node ${process.version}, ${process.platform}/${process.arch}; medians of repeated runs`);
  const profiles = benchProfiles();
  const pprof = pprofBinary();
  const timeRows: string[][] = [];
  const memRows: string[][] = [];
  for (const p of profiles) {
    const gz = readFileSync(p.file);
    const baseGz = readFileSync(p.baseFile);
    const raw = zlib.gunzipSync(gz);
    const profile = decodeProfileBytes(gz, { stacks: "leaf" });

    // Sanity: the peer and we agree before we compare speeds.
    const ours = summarizeHeap(profile);
    const peer = peerSummarize(gz);
    if (peer.totals.inuse_space !== inuseBytes(ours) || peer.sites[0]?.bytes !== ours.sites.bytes[0]) {
      throw new Error(`${p.label}: peer and LeakWatch disagree`);
    }

    const t: Record<PathName, number> = {
      gunzip: time(() => PATHS.gunzip(gz), 1500, 20),
      ours: time(() => PATHS.ours(gz), 1500, 20),
      oursTop: time(() => PATHS.oursTop(gz), 1500, 10),
      peer: time(() => PATHS.peer(gz), 3000, 5),
    };
    const baseSummary = summarizeHeap(decodeProfileBytes(baseGz, { stacks: "leaf" }));
    const diffMs = time(() => diffHeap(baseSummary, ours), 500, 50);
    const go = pprof === undefined ? undefined : timePprof(pprof, p.file);

    timeRows.push([
      p.label,
      kib(gz.length),
      kib(raw.length),
      String(profile.sampleCount),
      fmt(t.gunzip),
      fmt(t.ours),
      fmt(t.ours / t.gunzip),
      fmt(t.peer),
      fmt(t.peer / t.ours, 1),
      fmt(t.oursTop),
      go === undefined ? "n/a" : fmt(go.ms, 0),
      fmt(diffMs, 3),
      `${fmt((diffMs / t.ours) * 100, 1)}%`,
    ]);

    const mem = (name: PathName): string => peakRiseMiB(name, p.file);
    memRows.push([
      p.label,
      mem("gunzip"),
      mem("ours"),
      mem("oursTop"),
      mem("peer"),
      go?.peakKiB === undefined ? "n/a" : mib(go.peakKiB),
      kib(JSON.stringify(ours).length),
    ]);
  }

  printTable(
    "Time per profile (ms, from gzipped bytes)",
    [
      "profile",
      "gz KiB",
      "raw KiB",
      "samples",
      "gunzip",
      "ours",
      "ours÷gunzip",
      "peer",
      "peer÷ours",
      "ours full+top",
      "go pprof -top",
      "diff",
      "diff÷ours",
    ],
    timeRows,
  );
  console.log("goals: ours÷gunzip ≤ 3, peer÷ours ≥ 5, diff÷ours < 5%");
  console.log(
    "ours = bounded gunzip + leaf-only decode + heap summary (per scrape); ours full+top = full decode + top table (CLI);",
  );
  console.log(
    "peer = gunzip + pprof-format decode + the same summary; go pprof -top = wall time of the process.\n",
  );
  printTable(
    "Peak memory (MiB: RSS rise of one cold run in a fresh process; go pprof: peak RSS of the whole process)",
    ["profile", "gunzip", "ours", "ours full+top", "peer", "go pprof -top", "summary JSON KiB"],
    memRows,
  );
}

function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
  console.log(`\n${title}`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

main();
