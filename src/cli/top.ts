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
import { oneOf, parseFlags, positiveInt } from "./args.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import { describeTime, describeTotals, loadProfile, reportFailure, sampleTypeName } from "./profile-input.ts";

const USAGE = `usage: leakwatch top PROFILE [flags]

Summarizes a pprof profile (a file or an http(s) URL) like \`go tool pprof -top\`.
Goroutine profiles also list where goroutines are parked.

flags:
  --sample-index TYPE   sample type to rank by, a name or a position
                        (default: inuse_space, else the profile's default type)
  --by function|line    one row per function (default) or per function and line
  --top N               rows to print (default 20)
  --json                print JSON
`;

const FLAGS = {
  "sample-index": { type: "string" },
  by: { type: "string" },
  top: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export const top: Command = async (argv, io) => {
  const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
  if (values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [source, ...extra] = positionals;
  if (source === undefined || extra.length > 0) throw new UsageError(`expected one profile\n\n${USAGE}`);
  const by = oneOf("by", values.by, ["function", "line"], "function");
  const limit = positiveInt("top", values.top, 20);
  try {
    const { profile } = await loadProfile(source, io);
    const table = topTable(profile, { sampleType: sampleTypeName(profile, values["sample-index"]), by });
    const goroutines = profileKind(profile) === "goroutine" ? summarizeGoroutines(profile) : undefined;
    if (values.json === true) {
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
