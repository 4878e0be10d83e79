// `leakwatch detect SERIES.csv [--limit BYTES] [--interval D] [--window D] [--warmup D] [--json]`:
// replays a recorded series through the detector and prints each change of verdict, then the final
// heap and goroutine verdicts.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  createSeriesState,
  DetectError,
  formatBytes,
  formatDuration,
  formatPercent,
  observe,
  parseSeriesCsv,
  resolveDetectorConfig,
  type Assessment,
  type MetricAssessment,
} from "../detect/index.ts";
import { parseDuration } from "../api/duration.ts";
import { UsageError, type Command } from "./command.ts";

const HELP = `usage: leakwatch detect SERIES.csv [--limit BYTES] [--sampling BYTES] [--interval D] [--window D] [--warmup D] [--json]

Replays a recorded series (CSV header time,heap_inuse_bytes,goroutines,restart; unix seconds;
goroutines, restart and oom_killed optional) and prints each change of verdict, then the final heap
and goroutine verdicts as the last two lines.

  --limit BYTES   the heap ceiling: in-use heap at which the container hits its memory limit
                  (the projected time to the limit; growth on course to reach it within two
                  windows is called even at a pace a daily load cycle could climb at)
  --sampling BYTES the heap profile's sampling period when the heap figures are its inuse_space
                  (Go: 512Ki): growth must stand out from the sampling error
  --interval D    the scrape interval (default: the median gap between rows)
  --window D      the detection window, at least ten intervals (default 2h)
  --warmup D      ignore this long after each container start (default 10m)
  --json          one JSON object per verdict change, then the final assessment
`;

function parseFlagDuration(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text, flag);
  } catch {
    throw new UsageError(`${flag} "${text}" is not a duration (e.g. 2s, 90s, 2h)`);
  }
}

/** The median gap between consecutive rows: the scrape interval the series was recorded at. */
function medianGap(times: readonly number[]): number | undefined {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
    if (gap > 0) gaps.push(gap);
  }
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
}

function parseSize(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?i?B?$/.exec(text.trim());
  if (match === null) throw new UsageError(`${flag} "${text}" is not a size (e.g. 536870912, 512Mi, 2GiB)`);
  const units: Record<string, number> = {
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
  };
  const value = Number(match[1]) * (match[2] === undefined ? 1 : (units[match[2]] ?? 1));
  if (!(value > 0)) throw new UsageError(`${flag} must be positive`);
  return value;
}

function describe(kind: string, m: MetricAssessment, unit: "heap" | "goroutines"): string {
  const parts = [`${kind} ${m.verdict}${m.tier === null ? "" : ` (${m.tier})`}`];
  if (m.slopePerHour !== null && m.slopePercentPerHour !== null) {
    const rate = unit === "heap" ? `${formatBytes(m.slopePerHour)}/h` : `${m.slopePerHour.toFixed(1)}/h`;
    parts.push(`slope ${rate} (${formatPercent(m.slopePercentPerHour)}/h)`);
  }
  if (m.verdict === "Suspected" || m.verdict === "Leaking") {
    parts.push(`confidence ${m.confidence.toFixed(3)}`, `growing for ${formatDuration(m.growingForMs)}`);
  }
  if (m.timeToCeilingMs !== null) parts.push(`limit in ${formatDuration(m.timeToCeilingMs)}`);
  if (m.reasons.length > 0) parts.push(`— ${m.reasons.join("; ")}`);
  return parts.join(", ");
}

function stamp(t: number): string {
  return new Date(t).toISOString().replace(".000Z", "Z");
}

export const detect: Command = async (argv, io) => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        limit: { type: "string" },
        sampling: { type: "string" },
        interval: { type: "string" },
        window: { type: "string" },
        warmup: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (parsed.values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) throw new UsageError(`expected one SERIES.csv\n\n${HELP}`);
  const limit = parseSize(parsed.values.limit, "--limit");
  const sampling = parseSize(parsed.values.sampling, "--sampling");
  const intervalMs = parseFlagDuration(parsed.values.interval, "--interval");
  const windowMs = parseFlagDuration(parsed.values.window, "--window");
  const warmupMs = parseFlagDuration(parsed.values.warmup, "--warmup");

  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    io.stderr.write(
      `leakwatch detect: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  }
  let assessments: { t: number; a: Assessment }[];
  try {
    const samples = parseSeriesCsv(text);
    if (samples.length === 0) throw new UsageError(`${file} has no rows`);
    const sampleIntervalMs = intervalMs ?? medianGap(samples.map((s) => s.t));
    const config = resolveDetectorConfig({
      ...(limit === undefined ? {} : { heapCeilingBytes: limit }),
      ...(sampling === undefined ? {} : { heapSamplingBytes: sampling }),
      ...(sampleIntervalMs === undefined ? {} : { sampleIntervalMs }),
      ...(windowMs === undefined ? {} : { windowMs }),
      ...(warmupMs === undefined ? {} : { warmupMs }),
    });
    const state = createSeriesState();
    assessments = samples.map((s) => ({ t: s.t, a: observe(state, s, config) }));
  } catch (err) {
    if (err instanceof DetectError) {
      io.stderr.write(`leakwatch detect: ${file}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  let previous = "";
  const first = assessments[0]?.t ?? 0;
  for (const { t, a } of assessments) {
    const key = `${a.heap.verdict}/${a.heap.tier ?? ""} ${a.goroutines.verdict}/${a.goroutines.tier ?? ""}`;
    if (key === previous) continue;
    previous = key;
    if (parsed.values.json) {
      io.stdout.write(`${JSON.stringify({ change: true, ...a })}\n`);
    } else {
      io.stdout.write(
        `${stamp(t)} +${formatDuration(t - first)}  ${describe("heap", a.heap, "heap")}  |  goroutines ${a.goroutines.verdict}${a.goroutines.tier === null ? "" : ` (${a.goroutines.tier})`}\n`,
      );
    }
  }
  const last = assessments[assessments.length - 1]?.a;
  if (last === undefined) return 0;
  if (parsed.values.json) {
    io.stdout.write(`${JSON.stringify({ final: true, ...last })}\n`);
  } else {
    io.stdout.write(`heap: ${describe("", last.heap, "heap").trimStart()}\n`);
    io.stdout.write(`goroutines: ${describe("", last.goroutines, "goroutines").trimStart()}\n`);
  }
  return 0;
};
