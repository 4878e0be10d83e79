// `leakwatch captures list|get`: the profiles and "what grew" reports LeakWatch stored when it
// caught a leak — listed, and fetched into a directory ready for `go tool pprof -base`.
import { constants } from "node:fs";
import { access, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { captureCommands } from "../controller/report.ts";
import {
  ConfigMapCaptureStore,
  captureFileList,
  type Capture,
  type CaptureSummary,
} from "../kube/captures.ts";
import { ALL_NAMESPACES, getLeakWatch, listLeakWatches, type NamespaceScope } from "../kube/leakwatches.ts";
import { formatBytes } from "../profile/index.ts";
import { oneOf, parseFlags } from "./args.ts";
import {
  CONNECTION_FLAGS,
  CONNECTION_USAGE,
  NAMESPACE_FLAGS,
  programName,
  scopeFromFlags,
  withCluster,
  type ConnectionOptions,
  type Scope,
} from "./cluster.ts";
import type { Command, CommandIO } from "./command.ts";
import { UsageError } from "./command.ts";
import { ageOf, renderTable, truncate, type Column } from "./table.ts";

const USAGE = `usage: leakwatch captures list [flags]
       leakwatch captures get NAME [-n NS] [-o DIR] [--force]

The profiles and "what grew" reports LeakWatch stored (as ConfigMaps, next to the LeakWatch) when
it caught a leak.

  list    name, pod, age, size, whether complete, and the headline, newest first
  get     writes heap.pb.gz, base-heap.pb.gz and goroutine.pb.gz (those stored), report.txt and
          report.json into DIR, and prints the commands that open them

Run leakwatch captures list --help or leakwatch captures get --help for their flags.
`;

const LIST_USAGE = `usage: leakwatch captures list [flags]

Lists the stored captures, newest first: name, pod, age, size, complete (false when
captures.maxBytes left a file out) and headline.

flags:
  -n, --namespace NS        the namespace (default: the kubeconfig context's)
  -A, --all-namespaces      every namespace with a LeakWatch
  --leakwatch NAME          only this LeakWatch's captures
  -o, --output FORMAT       table (default) or json
${CONNECTION_USAGE}
`;

const GET_USAGE = `usage: leakwatch captures get NAME [flags]

Writes the capture's files into DIR: heap.pb.gz, base-heap.pb.gz (the heap at the start of the
analysis window) and goroutine.pb.gz when stored, report.txt and report.json. Prints the headline
and the commands to open them (go tool pprof -base, or leakwatch diff in the terminal).

flags:
  -n, --namespace NS        the capture's namespace (default: the kubeconfig context's)
  -o, --output DIR          where to write (default: ./NAME)
  --force                   overwrite files already in DIR
${CONNECTION_USAGE}
`;

const LIST_FLAGS = {
  ...CONNECTION_FLAGS,
  ...NAMESPACE_FLAGS,
  leakwatch: { type: "string" },
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
} as const;

const GET_FLAGS = {
  ...CONNECTION_FLAGS,
  namespace: NAMESPACE_FLAGS.namespace,
  output: { type: "string", short: "o" },
  force: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export interface ListOptions extends ConnectionOptions {
  readonly scope: Scope;
  readonly leakWatch: string | undefined;
  readonly format: "table" | "json";
}

export interface GetOptions extends ConnectionOptions {
  readonly namespace: string | undefined;
  readonly name: string;
  /** The directory as the user wrote it; undefined: ./NAME. */
  readonly dir: string | undefined;
  readonly force: boolean;
}

export function parseListArgs(argv: readonly string[]): ListOptions | "help" {
  const { values, positionals } = parseFlags(argv, LIST_FLAGS, LIST_USAGE);
  if (values.help === true) return "help";
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}\n\n${LIST_USAGE}`);
  }
  if (values.leakwatch === "") throw new UsageError("--leakwatch needs a LeakWatch name");
  return {
    kubeconfig: values.kubeconfig,
    context: values.context,
    scope: scopeFromFlags(values),
    leakWatch: values.leakwatch,
    format: oneOf("output", values.output, ["table", "json"], "table"),
  };
}

export function parseGetArgs(argv: readonly string[]): GetOptions | "help" {
  const { values, positionals } = parseFlags(argv, GET_FLAGS, GET_USAGE);
  if (values.help === true) return "help";
  const [name, ...extra] = positionals;
  if (name === undefined || extra.length > 0) {
    throw new UsageError(`expected one capture NAME (leakwatch captures list shows them)\n\n${GET_USAGE}`);
  }
  if (values.output === "") throw new UsageError("-o needs a directory");
  return {
    kubeconfig: values.kubeconfig,
    context: values.context,
    namespace: scopeFromFlags(values).all ? undefined : values.namespace,
    name,
    dir: values.output,
    force: values.force === true,
  };
}

/** A listed capture, with its namespace (for -A). */
export interface CaptureRow extends CaptureSummary {
  namespace: string;
}

export function renderCaptureList(
  rows: readonly CaptureRow[],
  options: { all: boolean; now: number },
): string {
  const columns: Column<CaptureRow>[] = [
    { header: "NAMESPACE", cell: (r) => r.namespace, when: options.all },
    { header: "NAME", cell: (r) => r.name },
    { header: "POD", cell: (r) => r.meta.pod },
    { header: "AGE", cell: (r) => ageOf(r.meta.createdAt, options.now) },
    { header: "SIZE", cell: (r) => formatBytes(r.bytes) },
    { header: "COMPLETE", cell: (r) => (r.complete ? "true" : "false") },
    { header: "HEADLINE", cell: (r) => truncate(r.meta.headline, 100) },
  ];
  let out = renderTable(columns, rows);
  if (rows.some((r) => !r.complete)) {
    out += "(COMPLETE false: captures.maxBytes left files out; leakwatch captures get says which)\n";
  }
  return out;
}

export function captureListJSON(rows: readonly CaptureRow[]): string {
  const items = rows.map((r) => ({
    namespace: r.namespace,
    name: r.name,
    leakWatch: r.meta.leakWatch.name,
    pod: r.meta.pod,
    container: r.meta.container,
    workload: r.meta.workload,
    createdAt: r.meta.createdAt,
    reason: r.meta.reason,
    headline: r.meta.headline,
    bytes: r.bytes,
    complete: r.complete,
    omitted: r.meta.omitted,
    files: r.files,
  }));
  return `${JSON.stringify({ kind: "CaptureList", items }, null, 2)}\n`;
}

export function emptyCapturesMessage(namespace: NamespaceScope, leakWatch: string | undefined): string {
  const where = namespace === ALL_NAMESPACES ? "in any namespace" : `in namespace ${namespace}`;
  const of = leakWatch === undefined ? "" : ` of LeakWatch ${leakWatch}`;
  const statusCmd = namespace === ALL_NAMESPACES ? "leakwatch status -A" : `leakwatch status -n ${namespace}`;
  return `no captures${of} ${where}: LeakWatch stores one when it confirms a leak (${statusCmd} shows the verdicts)`;
}

/** Files of `names` already in `dir`. */
export async function existingFiles(dir: string, names: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const name of names) {
    try {
      await access(join(dir, name), constants.F_OK);
      found.push(name);
    } catch {
      // absent: fine
    }
  }
  return found;
}

/** Refuses to overwrite (unless `force`); "wx" also catches a file that appears meanwhile. */
export async function writeCaptureFiles(
  dir: string,
  files: readonly [string, Buffer][],
  force: boolean,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) {
    await writeFile(join(dir, name), bytes, { flag: force ? "w" : "wx" });
  }
}

/** A word the shell reads as itself: quoted only when it has to be. */
export function shellQuote(word: string): string {
  return /^[\w./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The directory as the commands should name it: as given, or ./NAME; no trailing slash. */
export function displayDir(name: string, dir: string | undefined): string {
  const shown = dir ?? `./${name}`;
  return shown.length > 1 ? shown.replace(/\/+$/, "") : shown;
}

/** What `captures get` prints once the files are written. */
export function renderGetResult(args: {
  capture: Capture;
  namespace: string;
  dir: string;
  written: readonly [string, Buffer][];
  now: number;
  program: string;
}): string {
  const { capture, namespace, written } = args;
  const m = capture.meta;
  const names = new Set(written.map(([n]) => n));
  const hasBase = names.has("base-heap.pb.gz");
  const dir = shellQuote(args.dir);
  // The controller's note names ./NAME: the same command, pointed at where the files are.
  const open = captureCommands(namespace, capture.name, hasBase, dir).open;
  const where = [
    m.container === undefined ? undefined : `container ${m.container}`,
    m.workload === undefined ? undefined : `${m.workload.kind}/${m.workload.name}`,
  ].filter((p): p is string => p !== undefined);
  const lines = [
    `Capture ${capture.name} of ${m.namespace}/${m.pod}${where.length > 0 ? ` (${where.join(", ")})` : ""}, ${m.reason}, taken ${m.createdAt} (${ageOf(m.createdAt, args.now)} ago)`,
    `Headline: ${m.headline === "" ? "(none)" : m.headline}`,
    `Wrote ${args.dir}/: ${written.map(([n, b]) => `${n} (${formatBytes(b.length)})`).join(", ")}`,
  ];
  if (m.omitted.length > 0) {
    lines.push(
      `Incomplete: captures.maxBytes (${formatBytes(m.maxBytes)}) ${m.omitted
        .map((o) => `${o.action === "dropped" ? "dropped" : "cut"} ${o.file} (${formatBytes(o.bytes)})`)
        .join(", ")}`,
    );
  }
  lines.push("", hasBase ? "Open it (what grew since the start of the window):" : "Open it:", `  ${open}`);
  if (hasBase) {
    lines.push(
      "What grew, in the terminal:",
      `  ${args.program} diff ${dir}/base-heap.pb.gz ${dir}/heap.pb.gz`,
    );
  } else {
    lines.push("What it holds, in the terminal:", `  ${args.program} top ${dir}/heap.pb.gz`);
  }
  if (names.has("goroutine.pb.gz")) {
    lines.push("Where goroutines wait:", `  ${args.program} top ${dir}/goroutine.pb.gz`);
  }
  if (names.has("report.txt")) lines.push("The report:", `  less ${dir}/report.txt`);
  return `${lines.join("\n")}\n`;
}

async function listCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const options = parseListArgs(argv);
  if (options === "help") {
    io.stdout.write(LIST_USAGE);
    return 0;
  }
  const flagNamespace = options.scope.all ? undefined : options.scope.namespace;
  return withCluster("captures list", { ...options, namespace: flagNamespace }, io, async (cluster) => {
    const namespace = cluster.namespaceOf(options.scope);
    const store = new ConfigMapCaptureStore({ client: cluster.client });
    // Captures live next to their LeakWatch: -A looks in every namespace that has one.
    const namespaces =
      namespace === ALL_NAMESPACES
        ? [
            ...new Set(
              (await listLeakWatches(cluster.client, ALL_NAMESPACES, io.signal)).map(
                (lw) => lw.metadata.namespace,
              ),
            ),
          ]
        : [namespace];
    const rows: CaptureRow[] = [];
    for (const ns of namespaces) {
      for (const c of await store.list(ns, options.leakWatch)) rows.push({ ...c, namespace: ns });
    }
    if (options.format === "json") {
      io.stdout.write(captureListJSON(rows));
      return 0;
    }
    if (rows.length === 0) {
      if (options.leakWatch !== undefined && namespace !== ALL_NAMESPACES) {
        const lw = await getLeakWatch(cluster.client, namespace, options.leakWatch, io.signal);
        if (lw === undefined) {
          io.stderr.write(
            `leakwatch captures list: LeakWatch ${options.leakWatch} not found in namespace ${namespace} (leakwatch status -n ${namespace} lists them)\n`,
          );
          return 1;
        }
      }
      io.stderr.write(`${emptyCapturesMessage(namespace, options.leakWatch)}\n`);
      return 0;
    }
    io.stdout.write(renderCaptureList(rows, { all: namespace === ALL_NAMESPACES, now: Date.now() }));
    return 0;
  });
}

async function getCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const options = parseGetArgs(argv);
  if (options === "help") {
    io.stdout.write(GET_USAGE);
    return 0;
  }
  return withCluster("captures get", options, io, async (cluster) => {
    const namespace = cluster.namespace(options.namespace);
    const store = new ConfigMapCaptureStore({ client: cluster.client });
    const capture = await store.get(namespace, options.name);
    const dir = displayDir(options.name, options.dir);
    const files = captureFileList(capture);
    if (!options.force) {
      const clash = await existingFiles(
        dir,
        files.map(([n]) => n),
      );
      if (clash.length > 0) {
        io.stderr.write(
          `leakwatch captures get: ${dir} already has ${clash.join(", ")}: pass --force to overwrite, or -o another directory\n`,
        );
        return 1;
      }
    }
    try {
      await writeCaptureFiles(dir, files, options.force);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (err instanceof Error && typeof code === "string" && /^E[A-Z]+$/.test(code)) {
        io.stderr.write(`leakwatch captures get: cannot write into ${dir}: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    io.stdout.write(
      renderGetResult({ capture, namespace, dir, written: files, now: Date.now(), program: programName() }),
    );
    return 0;
  });
}

export const captures: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === "list" || sub === "ls") return listCommand(rest, io);
  if (sub === "get") return getCommand(rest, io);
  if (sub === "--help" || sub === "-h" || sub === "help") {
    io.stdout.write(USAGE);
    return 0;
  }
  throw new UsageError(
    sub === undefined ? `expected list or get\n\n${USAGE}` : `unknown subcommand "${sub}"\n\n${USAGE}`,
  );
};
