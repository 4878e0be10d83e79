// `leakwatch status [-n NS | -A] [NAME] [-o table|json|wide]`: per LeakWatch, the watched pods'
// verdicts, heap, growth, time to the limit and last capture, as the operator wrote them in status.
import type {
  ActionMode,
  CaptureRef,
  Condition,
  LeakWatch,
  PodReport,
  RestartRecord,
  WorkloadReport,
} from "../api/types.ts";
import { captureCommands } from "../controller/report.ts";
import { ALL_NAMESPACES, getLeakWatch, listLeakWatches, type NamespaceScope } from "../kube/leakwatches.ts";
import { oneOf, parseFlags } from "./args.ts";
import {
  CONNECTION_FLAGS,
  CONNECTION_USAGE,
  NAMESPACE_FLAGS,
  scopeFromFlags,
  withCluster,
  type ConnectionOptions,
  type Scope,
} from "./cluster.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import { ageOf, renderTable, truncate, type Column } from "./table.ts";

const USAGE = `usage: leakwatch status [NAME] [flags]

Shows, per LeakWatch, the pods it watches that need attention (leaking, suspected, failing,
collecting): verdict, heap, growth per hour, projected time to the memory limit, and the last
capture with its headline. Healthy pods are counted, not listed.

flags:
  -n, --namespace NS        the LeakWatches' namespace (default: the kubeconfig context's)
  -A, --all-namespaces      every namespace
  -o, --output FORMAT       table (default), wide (adds tier, goroutines, workload, restarts,
                            last error) or json
${CONNECTION_USAGE}
`;

const FLAGS = {
  ...CONNECTION_FLAGS,
  ...NAMESPACE_FLAGS,
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
} as const;

export type StatusFormat = "table" | "wide" | "json";

export interface StatusOptions extends ConnectionOptions {
  readonly scope: Scope;
  readonly name: string | undefined;
  readonly format: StatusFormat;
}

export function parseStatusArgs(argv: readonly string[]): StatusOptions | "help" {
  const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
  if (values.help === true) return "help";
  const [name, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`expected at most one LeakWatch NAME\n\n${USAGE}`);
  const scope = scopeFromFlags(values);
  if (scope.all && name !== undefined) {
    throw new UsageError("a LeakWatch NAME is looked up in one namespace: use -n NAMESPACE, not -A");
  }
  return {
    kubeconfig: values.kubeconfig,
    context: values.context,
    scope,
    name,
    format: oneOf("output", values.output, ["table", "wide", "json"], "table"),
  };
}

/** A status row, with the newest capture of its pod. */
export interface PodRow extends PodReport {
  lastCapture?: CaptureRef;
}

export interface Counts {
  watched: number;
  leaking: number;
  suspected: number;
  failing: number;
  collecting: number;
  healthy: number;
}

/** One LeakWatch as `status` shows it (and prints with -o json). */
export interface StatusView {
  namespace: string;
  name: string;
  mode: ActionMode;
  suspended: boolean;
  /** False until the operator has written a status for this LeakWatch. */
  reported: boolean;
  /** The status describes an older spec (observedGeneration behind generation). */
  stale: boolean;
  ready: Pick<Condition, "status" | "reason" | "message"> | null;
  counts: Counts;
  pods: PodRow[];
  /** Watched pods not in `pods` (healthy ones, and any past the status's row limit). */
  notListed: number;
  workloads: WorkloadReport[];
  captures: CaptureRef[];
  restarts: RestartRecord[];
}

export function statusView(lw: LeakWatch): StatusView {
  const s = lw.status ?? {};
  const captures = [...(s.captures ?? [])].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  const pods = (s.pods ?? []).map((row): PodRow => {
    const lastCapture = captures.find((c) => c.pod === row.pod);
    return lastCapture === undefined ? { ...row } : { ...row, lastCapture };
  });
  const counts: Counts = {
    watched: s.watched ?? 0,
    leaking: s.leaking ?? 0,
    suspected: s.suspected ?? 0,
    failing: s.failing ?? 0,
    collecting: s.collecting ?? 0,
    healthy: s.healthy ?? 0,
  };
  const ready = s.conditions?.find((c) => c.type === "Ready");
  const generation = lw.metadata.generation;
  return {
    namespace: lw.metadata.namespace,
    name: lw.metadata.name,
    mode: lw.spec.action?.mode ?? "Record",
    suspended: lw.spec.suspend === true,
    reported: s.observedGeneration !== undefined || ready !== undefined,
    stale:
      s.observedGeneration !== undefined && generation !== undefined && s.observedGeneration < generation,
    ready:
      ready === undefined ? null : { status: ready.status, reason: ready.reason, message: ready.message },
    counts,
    pods,
    notListed: Math.max(0, counts.watched - pods.length),
    workloads: s.workloads ?? [],
    captures,
    restarts: s.restarts ?? [],
  };
}

/** The words for an empty namespace (or cluster), with what to do about it. */
export function emptyMessage(namespace: NamespaceScope): string {
  return namespace === ALL_NAMESPACES
    ? "no LeakWatch in any namespace: kubectl apply -n NAMESPACE -f examples/leakwatch-record.yaml"
    : `no LeakWatch in namespace ${namespace}: kubectl apply -n ${namespace} -f examples/leakwatch-record.yaml`;
}

const HEADLINE_MAX = 100;
const ERROR_MAX = 80;

function signed(text: string): string {
  return text.startsWith("-") || text === "0" ? text : `+${text}`;
}

function podColumns(wide: boolean, now: number): Column<PodRow>[] {
  return [
    { header: "POD", cell: (r) => (r.container === undefined ? r.pod : `${r.pod}/${r.container}`) },
    { header: "VERDICT", cell: (r) => r.verdict },
    { header: "TIER", cell: (r) => r.tier ?? "-", when: wide },
    { header: "HEAP", cell: (r) => r.heap ?? "-" },
    { header: "GROWTH", cell: (r) => (r.growthPerHour === undefined ? "-" : signed(r.growthPerHour)) },
    {
      header: "GROWTH%",
      cell: (r) =>
        r.growthPercentPerHour === undefined ? "-" : `${signed(String(r.growthPercentPerHour))}%/h`,
    },
    {
      header: "GOROUTINES",
      cell: (r) =>
        r.goroutines === undefined
          ? "-"
          : `${r.goroutines}${r.goroutineVerdict === undefined || r.goroutineVerdict === "Healthy" ? "" : ` (${r.goroutineVerdict})`}`,
      when: wide,
    },
    { header: "TO LIMIT", cell: (r) => r.timeToLimit ?? "-" },
    {
      header: "RESTARTS",
      cell: (r) =>
        `${r.restarts ?? 0}${r.lastTerminationReason === undefined ? "" : ` (${r.lastTerminationReason})`}`,
      when: wide,
    },
    { header: "WORKLOAD", cell: (r) => r.workload ?? "-", when: wide },
    {
      header: "LAST CAPTURE",
      cell: (r) =>
        r.lastCapture === undefined ? "-" : `${r.lastCapture.name} (${ageOf(r.lastCapture.time, now)} ago)`,
    },
    {
      header: "HEADLINE",
      cell: (r) => truncate(r.lastCapture?.headline ?? (wide ? "-" : ""), HEADLINE_MAX),
    },
    // Last, whole: the cause is at the end of a scrape error ("…: connect ECONNREFUSED").
    { header: "LAST ERROR", cell: (r) => r.lastError ?? "", when: wide },
  ];
}

function countsLine(c: Counts): string {
  const parts = (["leaking", "suspected", "failing", "collecting", "healthy"] as const)
    .filter((k) => c[k] > 0)
    .map((k) => `${c[k]} ${k}`);
  return `${c.watched} watched${parts.length > 0 ? `: ${parts.join(", ")}` : ""}`;
}

function readyLine(v: StatusView): string {
  if (v.suspended) return "suspended (spec.suspend: true): no scraping, no actions";
  if (!v.reported || v.ready === null) {
    return "no status yet: the operator has not reported on it (is it running? helm status leakwatch)";
  }
  const state = v.ready.status === "True" ? "ready" : `not ready (${v.ready.reason})`;
  return `${state}: ${v.ready.message}`;
}

/** The text for one LeakWatch: a heading, its state, the pods table, and what is not listed. */
export function renderStatusView(v: StatusView, options: { wide: boolean; now: number }): string {
  const lines = [`LeakWatch ${v.namespace}/${v.name} (mode ${v.mode}): ${readyLine(v)}`];
  if (v.stale) lines.push("  (the status describes an earlier spec: the operator has not caught up yet)");
  if (v.reported) lines.push(`  pods: ${countsLine(v.counts)}`);
  let out = `${lines.join("\n")}\n`;
  if (v.pods.length > 0) {
    out += `\n${renderTable(podColumns(options.wide, options.now), v.pods)}`;
  } else if (v.reported && !v.suspended && v.counts.watched === 0) {
    out += `  opt pods in: annotate them leakwatch.dev/scrape: "true" and leakwatch.dev/port: "<pprof port>" (and match spec.selector)\n`;
  } else if (v.reported && v.counts.watched > 0 && v.counts.healthy === v.counts.watched) {
    out += `  all ${v.counts.watched} watched pod(s) are healthy\n`;
  }
  if (v.pods.length > 0 && v.notListed > 0) {
    out += `(${v.notListed} more pod(s) not listed: healthy, or past the status's 20 rows)\n`;
  }
  const newest = v.pods.find((p) => p.lastCapture !== undefined)?.lastCapture;
  if (newest !== undefined) {
    out += `next: ${captureCommands(v.namespace, newest.name, true).fetch}\n`;
  }
  if (options.wide && v.restarts.length > 0) {
    const last = [...v.restarts].sort((a, b) => Date.parse(b.time) - Date.parse(a.time))[0];
    if (last !== undefined) {
      out += `restarts by LeakWatch: ${v.restarts.length} recorded; last ${last.pod} (${last.workload}, ${last.strategy}, ${last.result ?? "Pending"}) ${ageOf(last.time, options.now)} ago: ${truncate(last.reason, ERROR_MAX)}\n`;
    }
  }
  return out;
}

export function renderStatus(views: readonly StatusView[], options: { wide: boolean; now: number }): string {
  return views.map((v) => renderStatusView(v, options)).join("\n");
}

export function statusJSON(views: readonly StatusView[]): string {
  return `${JSON.stringify({ kind: "LeakWatchStatusList", items: views }, null, 2)}\n`;
}

export const status: Command = async (argv, io) => {
  const options = parseStatusArgs(argv);
  if (options === "help") {
    io.stdout.write(USAGE);
    return 0;
  }
  const scopeNamespace = options.scope.all ? undefined : options.scope.namespace;
  return withCluster("status", { ...options, namespace: scopeNamespace }, io, async (cluster) => {
    const namespace = cluster.namespaceOf(options.scope);
    let found: LeakWatch[];
    if (options.name !== undefined && namespace !== ALL_NAMESPACES) {
      const one = await getLeakWatch(cluster.client, namespace, options.name, io.signal);
      if (one === undefined) {
        io.stderr.write(
          `leakwatch status: LeakWatch ${options.name} not found in namespace ${namespace} (leakwatch status -n ${namespace} lists them)\n`,
        );
        return 1;
      }
      found = [one];
    } else {
      found = await listLeakWatches(cluster.client, namespace, io.signal);
    }
    const views = found.map(statusView);
    if (options.format === "json") {
      io.stdout.write(statusJSON(views));
      return 0;
    }
    if (views.length === 0) {
      io.stderr.write(`${emptyMessage(namespace)}\n`);
      return 0;
    }
    io.stdout.write(renderStatus(views, { wide: options.format === "wide", now: Date.now() }));
    return 0;
  });
};
