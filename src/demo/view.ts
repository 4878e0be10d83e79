// What the demo shows while it runs: a live table (pods, heap, growth per hour, verdict) redrawn in
// place on a terminal, or one plain line per change with --non-interactive.
import { formatBytes } from "../profile/index.ts";
import { parseMetrics } from "./metrics-text.ts";

export interface PodLine {
  pod: string;
  heapBytes: number | undefined;
  growthPerHour: number | undefined;
  verdict: string;
}

const NAMES = new Set([
  "leakwatch_heap_inuse_bytes",
  "leakwatch_heap_growth_bytes_per_hour",
  "leakwatch_target_verdict",
]);

export function podLines(metricsText: string): PodLine[] {
  const byPod = new Map<string, PodLine>();
  for (const s of parseMetrics(metricsText, NAMES)) {
    const pod = s.labels.pod ?? "";
    const line = byPod.get(pod) ?? {
      pod,
      heapBytes: undefined,
      growthPerHour: undefined,
      verdict: "Collecting",
    };
    if (s.name === "leakwatch_heap_inuse_bytes") line.heapBytes = s.value;
    if (s.name === "leakwatch_heap_growth_bytes_per_hour") line.growthPerHour = s.value;
    if (s.name === "leakwatch_target_verdict" && s.value === 1)
      line.verdict = s.labels.verdict ?? line.verdict;
    byPod.set(pod, line);
  }
  return [...byPod.values()].sort((a, b) => a.pod.localeCompare(b.pod));
}

export function renderTable(lines: readonly PodLine[]): string {
  const rows = [
    ["POD", "HEAP", "GROWTH/H", "VERDICT"],
    ...lines.map((l) => [
      l.pod,
      l.heapBytes === undefined ? "…" : formatBytes(l.heapBytes),
      l.growthPerHour === undefined || l.verdict === "Collecting"
        ? "…"
        : `${l.growthPerHour >= 0 ? "+" : ""}${formatBytes(l.growthPerHour)}/h`,
      l.verdict,
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export interface DemoOutput {
  /** A short status line (collecting progress, what happened). */
  progress(text: string): void;
  /** The pods table, redrawn. */
  table(lines: readonly PodLine[], footer: string): void;
  /** Permanent output (the event, the report, the commands). */
  print(text: string): void;
}

/** Redraws the table in place on a TTY. */
export function liveOutput(stream: NodeJS.WriteStream): DemoOutput {
  let drawn = 0;
  const clear = (): void => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  return {
    progress(text) {
      clear();
      stream.write(`${text}\n`);
    },
    table(lines, footer) {
      clear();
      const text = `${renderTable(lines)}\n${footer}\n`;
      stream.write(text);
      drawn = text.split("\n").length - 1;
    },
    print(text) {
      clear();
      stream.write(text.endsWith("\n") ? text : `${text}\n`);
    },
  };
}

/** One line per change, for CI and logs. */
export function plainOutput(stream: NodeJS.WritableStream): DemoOutput {
  let last = "";
  return {
    progress(text) {
      stream.write(`${text}\n`);
    },
    table(lines, footer) {
      const summary = lines
        .map(
          (l) => `${l.pod}=${l.verdict}${l.heapBytes === undefined ? "" : `(${formatBytes(l.heapBytes)})`}`,
        )
        .join(" ");
      if (summary !== last) stream.write(`[pods] ${summary} ${footer}\n`);
      last = summary;
    },
    print(text) {
      stream.write(text.endsWith("\n") ? text : `${text}\n`);
    },
  };
}
