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
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import {
  loadProfile,
  parseTableArgs,
  reportFailure,
  sampleTypeName,
  tableFlagsUsage,
  type TableDefaults,
} from "./profile-input.ts";

const DEFAULTS: TableDefaults = { by: "line", top: 10 };

const USAGE = `usage: leakwatch diff BASE NEW [flags]

Shows what grew from BASE to NEW (files or http(s) URLs): a one-line headline, the
sites whose in-use bytes (or goroutines) grew the most, and a table like
\`go tool pprof -top -base BASE NEW\`.

${tableFlagsUsage(DEFAULTS)}`;

export const diff: Command = async (argv, io) => {
  const { positionals, help, sampleIndex, by, limit, json } = parseTableArgs(argv, USAGE, DEFAULTS);
  if (help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [baseArg, newArg, ...extra] = positionals;
  if (baseArg === undefined || newArg === undefined || extra.length > 0) {
    throw new UsageError(`expected two profiles: BASE NEW\n\n${USAGE}`);
  }
  try {
    const [base, next] = await Promise.all([loadProfile(baseArg, io), loadProfile(newArg, io)]);
    const growth = summaryDiff(base.profile, next.profile, by, limit);
    const table = topTable(
      next.profile,
      { sampleType: sampleTypeName(next.profile, sampleIndex), by },
      base.profile,
    );
    if (json) {
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
