// `leakwatch top PROFILE`: what a profile holds, like `go tool pprof -top`.
import type { Profile, TopTable } from "../profile/index.ts";
import {
  goroutineGroups,
  profileKind,
  renderGoroutinesText,
  renderTopText,
  summarizeGoroutines,
  topTable,
} from "../profile/index.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import {
  describeTime,
  describeTotals,
  loadProfile,
  parseTableArgs,
  reportFailure,
  sampleTypeName,
  tableFlagsUsage,
  type TableDefaults,
} from "./profile-input.ts";

const DEFAULTS: TableDefaults = { by: "function", top: 20 };

const USAGE = `usage: leakwatch top PROFILE [flags]

Summarizes a pprof profile (a file or an http(s) URL) like \`go tool pprof -top\`.
Goroutine profiles also list where goroutines are parked.

${tableFlagsUsage(DEFAULTS)}`;

export const top: Command = async (argv, io) => {
  const { positionals, help, sampleIndex, by, limit, json } = parseTableArgs(argv, USAGE, DEFAULTS);
  if (help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [source, ...extra] = positionals;
  if (source === undefined || extra.length > 0) throw new UsageError(`expected one profile\n\n${USAGE}`);
  try {
    const { profile } = await loadProfile(source, io);
    const table = topTable(profile, { sampleType: sampleTypeName(profile, sampleIndex), by });
    const goroutines = profileKind(profile) === "goroutine" ? summarizeGoroutines(profile) : undefined;
    if (json) {
      io.stdout.write(`${JSON.stringify(topJSON(source, profile, table, limit, goroutines), null, 2)}\n`);
      return 0;
    }
    const lines = [
      `Source: ${source}`,
      `Time: ${describeTime(profile)}`,
      `Totals: ${describeTotals(profile)}`,
    ];
    if (!table.symbolized) {
      lines.push(
        "Symbols: missing for some frames, shown as addresses (symbolize with: go tool pprof BINARY PROFILE)",
      );
    }
    io.stdout.write(`${lines.join("\n")}\n`);
    if (goroutines !== undefined) io.stdout.write(`\n${renderGoroutinesText(goroutines, limit)}\n`);
    io.stdout.write(renderTopText(table, { limit }));
    return 0;
  } catch (err) {
    return reportFailure(err, "top", io);
  }
};

function topJSON(
  source: string,
  p: Profile,
  table: TopTable,
  limit: number,
  goroutines: ReturnType<typeof summarizeGoroutines> | undefined,
) {
  return {
    source,
    timeNanos: p.timeNanos,
    sampleTypes: p.sampleTypes,
    symbolized: table.symbolized,
    ...(goroutines === undefined
      ? {}
      : {
          goroutines: {
            profileType: goroutines.profileType,
            total: goroutines.total,
            groups: goroutineGroups(goroutines).slice(0, limit),
          },
        }),
    table: { ...table, nodeCount: table.rows.length, rows: table.rows.slice(0, limit) },
  };
}
