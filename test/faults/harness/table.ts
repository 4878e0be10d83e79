// The fault table: one row per fault, aggregated over its runs, then every violation and note.
import { existsSync, readFileSync } from "node:fs";
import type { FaultRunRecord } from "./results.ts";

export function readRuns(path: string): FaultRunRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as FaultRunRecord);
}

function seconds(ms: number | undefined): string {
  if (ms === undefined) return "–";
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}

export function renderTable(runs: readonly FaultRunRecord[]): string {
  const faults = [...new Set(runs.map((r) => r.fault))];
  const header = [
    "fault",
    "runs",
    "recovered",
    "time to recover p50 / max (bound)",
    "guardrail violations",
    "data lost (max)",
  ];
  const rows = faults.map((fault) => {
    const mine = runs.filter((r) => r.fault === fault);
    const times = mine.flatMap((r) => (r.recoverMs === null ? [] : [r.recoverMs])).sort((a, b) => a - b);
    const bound = Math.max(...mine.map((r) => r.recoverBoundMs ?? 0));
    const lost = mine.flatMap((r) => (r.dataLostS === null ? [] : [r.dataLostS]));
    return [
      fault,
      String(mine.length),
      `${mine.filter((r) => r.recovered).length}/${mine.length}`,
      `${seconds(percentile(times, 0.5))} / ${seconds(times.at(-1))}${bound > 0 ? ` (${seconds(bound)})` : ""}`,
      String(mine.reduce((sum, r) => sum + r.violations.length, 0)),
      lost.length === 0 ? "none possible" : `${Math.max(...lost).toFixed(1)} s of samples`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const out = [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)];
  const details = runs.flatMap((r) => [
    ...r.violations.map((v) => `  VIOLATION ${r.fault} #${r.run}: ${v}`),
    ...r.notes.map((n) => `  note ${r.fault} #${r.run}: ${n}`),
  ]);
  return [...out, ...(details.length > 0 ? ["", ...details] : [])].join("\n");
}
