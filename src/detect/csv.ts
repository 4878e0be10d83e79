// Reads a recorded series: `time,heap_inuse_bytes,goroutines,restart` (unix seconds; goroutines,
// restart and oom_killed optional). Pure text in, samples out; errors name the line.
import { SeriesCsvError } from "./errors.ts";
import type { Sample } from "./types.ts";

const KNOWN = ["time", "heap_inuse_bytes", "goroutines", "restart", "oom_killed"] as const;
type Column = (typeof KNOWN)[number];

function isColumn(name: string): name is Column {
  return (KNOWN as readonly string[]).includes(name);
}

function parseNumber(cell: string, what: string, line: number, integer: boolean): number {
  if (!/^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(cell)) {
    throw new SeriesCsvError(line, `${what} "${cell}" is not a non-negative number`);
  }
  const value = Number(cell);
  if (!Number.isFinite(value)) throw new SeriesCsvError(line, `${what} "${cell}" is out of range`);
  if (integer && !Number.isInteger(value))
    throw new SeriesCsvError(line, `${what} "${cell}" is not a whole number`);
  return value;
}

function parseFlag(cell: string, what: string, line: number): boolean {
  switch (cell.toLowerCase()) {
    case "":
    case "0":
    case "false":
      return false;
    case "1":
    case "true":
      return true;
    default:
      throw new SeriesCsvError(line, `${what} "${cell}" must be 0 or 1`);
  }
}

export function parseSeriesCsv(text: string): Sample[] {
  const lines = text.split(/\r?\n/);
  let headerLine = 0;
  while (headerLine < lines.length && isSkippable(lines[headerLine] ?? "")) headerLine++;
  if (headerLine >= lines.length)
    throw new SeriesCsvError(1, "empty file: expected the header time,heap_inuse_bytes,goroutines,restart");
  const header = (lines[headerLine] ?? "").split(",").map((h) => h.trim().toLowerCase());
  const index = new Map<Column, number>();
  header.forEach((name, i) => {
    if (!isColumn(name)) {
      throw new SeriesCsvError(headerLine + 1, `unknown column "${name}" (expected ${KNOWN.join(", ")})`);
    }
    if (index.has(name)) throw new SeriesCsvError(headerLine + 1, `column "${name}" appears twice`);
    index.set(name, i);
  });
  for (const required of ["time", "heap_inuse_bytes"] as const) {
    if (!index.has(required)) throw new SeriesCsvError(headerLine + 1, `missing column "${required}"`);
  }

  const samples: Sample[] = [];
  let previous = -Infinity;
  for (let i = headerLine + 1; i < lines.length; i++) {
    const raw = lines[i] ?? "";
    if (isSkippable(raw)) continue;
    const line = i + 1;
    const cells = raw.split(",").map((c) => c.trim());
    if (cells.length !== header.length) {
      throw new SeriesCsvError(line, `expected ${header.length} fields, found ${cells.length}`);
    }
    const cell = (c: Column): string => {
      const at = index.get(c);
      return at === undefined ? "" : (cells[at] ?? "");
    };
    const seconds = parseNumber(cell("time"), "time", line, false);
    const t = Math.round(seconds * 1000);
    if (t <= previous) throw new SeriesCsvError(line, `time ${cell("time")} is not after the previous row's`);
    previous = t;
    const heap = parseNumber(cell("heap_inuse_bytes"), "heap_inuse_bytes", line, false);
    const g = cell("goroutines");
    const restart = parseFlag(cell("restart"), "restart", line);
    const oomKilled = parseFlag(cell("oom_killed"), "oom_killed", line);
    samples.push({
      t,
      heapInuseBytes: heap,
      ...(g === "" ? {} : { goroutines: parseNumber(g, "goroutines", line, true) }),
      ...(restart || oomKilled ? { restart: true } : {}),
      ...(oomKilled ? { oomKilled: true } : {}),
    });
  }
  return samples;
}

function isSkippable(line: string): boolean {
  const trimmed = line.trim();
  return trimmed === "" || trimmed.startsWith("#");
}

/** The inverse of parseSeriesCsv, for recordings and bug reports. */
export function formatSeriesCsv(samples: readonly Sample[]): string {
  const withOom = samples.some((s) => s.oomKilled === true);
  const rows = [
    withOom
      ? "time,heap_inuse_bytes,goroutines,restart,oom_killed"
      : "time,heap_inuse_bytes,goroutines,restart",
  ];
  for (const s of samples) {
    const cells = [
      String(s.t / 1000),
      String(s.heapInuseBytes),
      s.goroutines === undefined ? "" : String(s.goroutines),
      s.restart === true ? "1" : "0",
    ];
    if (withOom) cells.push(s.oomKilled === true ? "1" : "0");
    rows.push(cells.join(","));
  }
  return `${rows.join("\n")}\n`;
}
