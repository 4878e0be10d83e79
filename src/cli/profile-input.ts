// Profiles named on the command line (a file or an http(s) URL, decoded with full stacks),
// and the lines `top` and `diff` print about them.
import { readFile, stat } from "node:fs/promises";
import type { Profile } from "../profile/index.ts";
import {
  CompressedTooLargeError,
  DEFAULT_LIMITS,
  decodeProfileBytes,
  fetchProfile,
  formatBytes,
  ProfileError,
  sampleTotals,
} from "../profile/index.ts";
import { oneOf, parseFlags, positiveInt } from "./args.ts";
import type { CommandIO } from "./command.ts";
import { UsageError } from "./command.ts";

/** The flags `top` and `diff` share: which sample type, per what, how many rows, text or JSON. */
const TABLE_FLAGS = {
  "sample-index": { type: "string" },
  by: { type: "string" },
  top: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export interface TableDefaults {
  by: "function" | "line";
  top: number;
}

/** The help text of the shared flags, with each command's defaults. */
export function tableFlagsUsage(defaults: TableDefaults): string {
  const by =
    defaults.by === "line"
      ? "rank per function and line (default) or per function"
      : "one row per function (default) or per function and line";
  return `flags:
  --sample-index TYPE   sample type to rank by, a name or a position
                        (default: inuse_space, else the profile's default type)
  --by function|line    ${by}
  --top N               rows to print (default ${defaults.top})
  --json                print JSON
`;
}

export interface TableArgs {
  /** The positional arguments (profiles). */
  readonly positionals: string[];
  readonly help: boolean;
  readonly sampleIndex: string | undefined;
  readonly by: "function" | "line";
  readonly limit: number;
  readonly json: boolean;
}

/** Parses the shared flags of `top` and `diff`; bad values become UsageErrors naming the help. */
export function parseTableArgs(argv: readonly string[], usage: string, defaults: TableDefaults): TableArgs {
  const { values, positionals } = parseFlags(argv, TABLE_FLAGS, usage);
  return {
    positionals,
    help: values.help === true,
    sampleIndex: values["sample-index"],
    by: oneOf("by", values.by, ["function", "line"], defaults.by),
    limit: positiveInt("top", values.top, defaults.top),
    json: values.json === true,
  };
}

export interface LoadedProfile {
  /** The file name or URL, as given. */
  readonly source: string;
  readonly profile: Profile;
}

export function isURL(arg: string): boolean {
  return /^https?:\/\//i.test(arg);
}

export async function loadProfile(arg: string, io: CommandIO): Promise<LoadedProfile> {
  if (isURL(arg)) {
    const fetched = await fetchProfile(arg, { signal: io.signal, stacks: "full" });
    return { source: arg, profile: fetched.profile };
  }
  const { size } = await stat(arg);
  if (size > DEFAULT_LIMITS.maxCompressedBytes)
    throw new CompressedTooLargeError(DEFAULT_LIMITS.maxCompressedBytes);
  return { source: arg, profile: decodeProfileBytes(await readFile(arg), { stacks: "full" }) };
}

/**
 * Prints an expected failure (a bad profile, an unreachable URL, a missing file) and returns
 * the exit code 1; anything else is a bug and is rethrown.
 */
export function reportFailure(err: unknown, command: string, io: CommandIO): number {
  if (err instanceof ProfileError) {
    io.stderr.write(`leakwatch ${command}: ${err.message} [${err.code}]\n`);
    return 1;
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code) && err instanceof Error) {
    io.stderr.write(`leakwatch ${command}: ${err.message}\n`);
    return 1;
  }
  throw err;
}

/** --sample-index takes a name (inuse_space) or, like pprof, a position (3). */
export function sampleTypeName(p: Profile, flag: string | undefined): string | undefined {
  if (flag === undefined || !/^\d+$/.test(flag)) return flag;
  const t = p.sampleTypes[Number(flag)];
  if (t === undefined)
    throw new UsageError(`--sample-index ${flag}: the profile has ${p.sampleTypes.length} sample types`);
  return t.type;
}

/** "inuse_space 3.06 MiB, inuse_objects 3,318, …" in the profile's order. */
export function describeTotals(p: Profile): string {
  const totals = sampleTotals(p);
  return p.sampleTypes
    .map((t) => {
      const v = totals[t.type] ?? 0;
      return `${t.type} ${t.unit === "bytes" ? formatBytes(v) : v.toLocaleString("en-US")}`;
    })
    .join(", ");
}

export function describeTime(p: Profile): string {
  return p.timeNanos === 0 ? "unknown" : new Date(p.timeNanos / 1e6).toISOString();
}
