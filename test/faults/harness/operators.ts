// Operator processes under fault: a supervisor that restarts one when it exits (as the kubelet
// restarts a container), and the crash checks every fault ends with — no unhandled rejection or
// uncaught exception in any log, no unexpected exit code.
import { readFileSync } from "node:fs";
import { startOperator, type OperatorOptions, type OperatorProcess } from "../../harness/operator.ts";
import { eventually } from "../../harness/kube.ts";

/** Lines that mean the process broke, whatever else happened. */
const CRASH = [
  /Unhandled/i,
  /uncaught/i,
  /FATAL ERROR/,
  /heap out of memory/i,
  /Segmentation fault/,
  /ERR_INTERNAL_ASSERTION/,
  /"msg":"scrape job failed unexpectedly"/,
];

/** How a process is allowed to have ended. */
export type ExpectedEnd = "running" | "clean" | "killed" | "lostLease";

export function fullLog(op: OperatorProcess): string {
  try {
    return readFileSync(op.process.logPath, "utf8");
  } catch {
    return op.process.tail(1 << 20);
  }
}

/** Crash lines in the log, and an exit that does not match `expected`. */
export async function crashViolations(op: OperatorProcess, expected: ExpectedEnd): Promise<string[]> {
  const out: string[] = [];
  if (expected !== "running" && op.process.running) {
    out.push(`${op.process.name} still running, expected it ${expected}`);
  }
  if (!op.process.running) {
    const code = await op.process.exited;
    const ok =
      (expected === "clean" && code === 0) ||
      (expected === "killed" && code === null) ||
      (expected === "lostLease" && code === 1);
    if (!ok) out.push(`${op.process.name} exited with ${String(code)}, expected ${expected}`);
  }
  const log = fullLog(op);
  for (const pattern of CRASH) {
    const line = log.split("\n").find((l) => pattern.test(l));
    if (line !== undefined) out.push(`${op.process.name} log: ${line.slice(0, 300)}`);
  }
  return out;
}

export async function metricValue(op: OperatorProcess, pattern: RegExp): Promise<number> {
  try {
    return Number(pattern.exec(await op.metrics())?.[1] ?? 0);
  } catch {
    return Number.NaN;
  }
}

export async function okScrapes(op: OperatorProcess): Promise<number> {
  return metricValue(op, /^leakwatch_scrapes_total\{kind="heap",result="ok"\} (\d+)/m);
}

export async function isLeader(op: OperatorProcess): Promise<boolean> {
  return (await metricValue(op, /^leakwatch_leader (\d+)/m)) === 1;
}

/** Waits for `count` more successful heap scrapes by `op`. */
export async function moreScrapes(op: OperatorProcess, count: number, timeoutMs = 60_000): Promise<void> {
  const from = await okScrapes(op);
  await eventually(
    `${count} more scrapes by ${op.process.name}`,
    async () => ((await okScrapes(op)) >= from + count ? true : undefined),
    { timeoutMs, intervalMs: 200 },
  );
}

/**
 * Keeps one operator running, starting a new process (a fresh lease candidate) after each exit,
 * with the kubelet's first back-off step. Every incarnation is kept for the crash checks.
 */
export class Supervisor {
  readonly incarnations: OperatorProcess[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly options: OperatorOptions;
  private readonly restartDelayMs: number;

  constructor(options: OperatorOptions, restartDelayMs = 1_000) {
    this.options = options;
    this.restartDelayMs = restartDelayMs;
  }

  async start(): Promise<OperatorProcess> {
    const first = await this.spawn();
    this.loop = this.watch(first);
    return first;
  }

  get current(): OperatorProcess | undefined {
    return this.incarnations.at(-1);
  }

  /** SIGTERM to the current process; no more restarts. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.current?.stop();
    await this.loop;
  }

  /** Read through a method: stop() changes it while watch() awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private async spawn(): Promise<OperatorProcess> {
    const n = this.incarnations.length;
    const op = await startOperator({
      ...this.options,
      name: `${this.options.name ?? "supervised"}-${n}`,
    });
    this.incarnations.push(op);
    return op;
  }

  private async watch(op: OperatorProcess): Promise<void> {
    let current = op;
    for (;;) {
      await current.process.exited;
      if (this.isStopped()) return;
      await new Promise((r) => setTimeout(r, this.restartDelayMs));
      if (this.isStopped()) return;
      for (;;) {
        try {
          current = await this.spawn();
          break;
        } catch {
          // it died before it started (e.g. the API server is down and it could not start): retry
          if (this.isStopped()) return;
          await new Promise((r) => setTimeout(r, this.restartDelayMs));
        }
      }
    }
  }
}
