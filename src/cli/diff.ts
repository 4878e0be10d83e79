// `leakwatch diff BASE NEW`: what grew between two profiles of the same process, with the
// headline the controller puts on a capture and a table like `go tool pprof -top -base`.
import type { GoroutineDiff, HeapDiff, Profile } from "../profile/index.ts";
import {
  diffGoroutines,
  diffHeap,
  profileKind,
  renderGoroutineDiffText,
  renderHeapDiffText,
  renderTopText,
  summarizeGoroutines,
  summarizeHeap,
  topTable,
} from "../profile/index.ts";
import { oneOf, parseFlags, positiveInt } from "./args.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import { loadProfile, reportFailure, sampleTypeName } from "./profile-input.ts";

const USAGE = `usage: leakwatch diff BASE NEW [flags]

Shows what grew from BASE to NEW (files or http(s) URLs): a one-line headline, the
sites whose in-use bytes (or goroutines) grew the most, and a table like
\`go tool pprof -top -base BASE NEW\`.

flags:
  --sample-index TYPE   sample type for the table, a name or a position
                        (default: inuse_space, else the profile's default type)
  --by function|line    rank per function and line (default) or per function
  --top N               rows to print (default 10)
  --json                print JSON
`;

const FLAGS = {
  "sample-index": { type: "string" },
  by: { type: "string" },
  top: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export const diff: Command = async (argv, io) => {
  const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
  if (values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [baseArg, newArg, ...extra] = positionals;
  if (baseArg === undefined || newArg === undefined || extra.length > 0) {
    throw new UsageError(`expected two profiles: BASE NEW\n\n${USAGE}`);
  }
  const by = oneOf("by", values.by, ["function", "line"], "line");
  const limit = positiveInt("top", values.top, 10);
  try {
    const [base, next] = await Promise.all([loadProfile(baseArg, io), loadProfile(newArg, io)]);
    const growth = summaryDiff(base.profile, next.profile, by, limit);
    const table = topTable(
      next.profile,
      { sampleType: sampleTypeName(next.profile, values["sample-index"]), by },
      base.profile,
    );
    if (values.json === true) {
      const out = {
        base: baseArg,
        new: newArg,
        headline: growth?.headline,
        growth,
        table: { ...table, nodeCount: table.rows.length, rows: table.rows.slice(0, limit) },
      };
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }
    if (growth?.kind === "heap-diff") io.stdout.write(`${renderHeapDiffText(growth)}\n`);
    if (growth?.kind === "goroutine-diff") io.stdout.write(`${renderGoroutineDiffText(growth)}\n`);
    io.stdout.write(renderTopText(table, { limit }));
    return 0;
  } catch (err) {
    return reportFailure(err, "diff", io);
  }
};

/** Heap or goroutine growth, when both profiles are of that kind; the table covers the rest. */
function summaryDiff(
  base: Profile,
  next: Profile,
  by: "function" | "line",
  top: number,
): HeapDiff | GoroutineDiff | undefined {
  const kinds = [profileKind(base), profileKind(next)];
  if (kinds.every((k) => k === "goroutine")) {
    return diffGoroutines(summarizeGoroutines(base), summarizeGoroutines(next), { top });
  }
  if (kinds.every((k) => k === "heap")) {
    const all = { maxSites: Infinity }; // exact: both profiles are at hand
    return diffHeap(summarizeHeap(base, all), summarizeHeap(next, all), { by, top });
  }
  return undefined;
}
