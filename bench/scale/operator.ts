// `leakwatch run` as a child process, measured from outside: CPU time and RSS from /proc, its own
// /metrics, and its inspector (bound to a random loopback port) for a forced GC and profiles.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";
import type { ManagedProcess, ProcessGroup } from "../../src/localcluster/processes.ts";
import { Inspector } from "./inspector.ts";

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

export interface OperatorOptions {
  kubeconfig: string;
  namespace: string;
  name: string;
  /** The entry point: src/main.ts (type-stripped at load) or a compiled dist/main.js. */
  main?: string;
  /** Node flags, e.g. the chart's --max-old-space-size. */
  nodeArgs?: readonly string[];
  extraArgs?: readonly string[];
}

export interface Operator {
  readonly process: ManagedProcess;
  readonly pid: number;
  readonly metricsPort: number;
  readonly inspectorUrl: string;
  metrics(): Promise<string>;
  /** User + system CPU seconds of the whole process (all threads: GC, libuv pool, …). */
  cpuSeconds(): number;
  /** Resident set, and its peak, in bytes. */
  memory(): { rss: number; peakRss: number };
  inspector(): Promise<Inspector>;
  stop(): Promise<void>;
}

export async function startOperator(group: ProcessGroup, options: OperatorOptions): Promise<Operator> {
  const proc = group.start(
    options.name,
    process.execPath,
    [
      "--inspect=127.0.0.1:0",
      ...(options.nodeArgs ?? []),
      options.main ?? join(REPO_ROOT, "src/main.ts"),
      "run",
      `--kubeconfig=${options.kubeconfig}`,
      "--leader-elect=false",
      "--metrics-bind-address=127.0.0.1:0",
      `--namespaces=${options.namespace}`,
      ...(options.extraArgs ?? []),
    ],
    { env: { ...process.env, POD_NAME: options.name }, cwd: REPO_ROOT },
  );
  const inspectorUrl = (await proc.waitForOutput(/Debugger listening on (ws:\/\/\S+)/, 30_000))[1] ?? "";
  const port = Number((await proc.waitForOutput(/"port":(\d+)[^\n]*"msg":"leakwatch started"/, 60_000))[1]);
  const pid = proc.pid;
  let session: Promise<Inspector> | undefined;
  return {
    process: proc,
    pid,
    metricsPort: port,
    inspectorUrl,
    metrics: async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
    cpuSeconds: () => {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after the command name (which may hold spaces) start at field 3; utime is 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    memory: () => {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
      return { rss: kib("VmRSS") * 1024, peakRss: kib("VmHWM") * 1024 };
    },
    inspector: async () => (session ??= Inspector.connect(inspectorUrl)),
    stop: async () => {
      if (session !== undefined) (await session).close();
      await proc.stop(20_000);
    },
  };
}

/**
 * Compiles the operator the way the image does (tsc -p tsconfig.build.json) into `dir`, with the
 * repository's node_modules linked beside it; returns the path of main.js.
 */
export function buildDist(dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync(
    process.execPath,
    [
      join(REPO_ROOT, "node_modules/typescript/bin/tsc"),
      "-p",
      "tsconfig.build.json",
      "--noCheck", // emit only: type errors are `npm run typecheck`'s business, not the benchmark's
      "--outDir",
      join(dir, "dist"),
    ],
    { cwd: REPO_ROOT, stdio: "inherit" },
  );
  copyFileSync(join(REPO_ROOT, "package.json"), join(dir, "package.json"));
  if (!existsSync(join(dir, "node_modules")))
    symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  return join(dir, "dist", "main.js");
}
