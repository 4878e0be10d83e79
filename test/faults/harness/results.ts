// One line of the fault table per test run: what was injected, whether and how fast the operator
// recovered, which guardrails were crossed and how much detector history was lost. Each run is
// appended as a JSON line to a file the global setup names; its teardown prints the table.
import { appendFileSync, copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { inject, type TestContext } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    faultResults: string;
  }
}

export interface FaultRunRecord {
  fault: string;
  run: number;
  /** The recovery condition was reached (see each test for what it is). */
  recovered: boolean;
  /** From the end of the fault (or the moment it took effect) to recovery. */
  recoverMs: number | null;
  /** The bound the test holds recovery to. */
  recoverBoundMs: number | null;
  /** Guardrails crossed, invariants broken, crashes: each one a line. */
  violations: string[];
  /** Seconds of detector history the fault cost (samples taken but never persisted); null when n/a. */
  dataLostS: number | null;
  notes: string[];
  durationMs: number;
}

/** How many runs of each fault: FAULT_RUNS (default 3; the bounded CI form sets 1). */
export function faultRuns(): number {
  const raw = process.env.FAULT_RUNS;
  const n = raw === undefined || raw === "" ? 3 : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`FAULT_RUNS must be 1..100, got ${raw}`);
  return n;
}

/** 1, 2, … FAULT_RUNS: one `it` per run. */
export function runNumbers(): number[] {
  return Array.from({ length: faultRuns() }, (_, i) => i + 1);
}

/**
 * Collects one run's figures; written when the test finishes, whether it passed or not. Call
 * `assertClean()` last: it fails the test on any violation, after they are all recorded.
 */
export class FaultRun {
  private readonly record: FaultRunRecord;
  private readonly started = Date.now();
  private readonly logs: { name: string; path: string }[] = [];

  private readonly ctx: Pick<TestContext, "expect" | "onTestFinished">;

  /** `ctx`: the test's own context (concurrent tests cannot use the global hooks). */
  constructor(ctx: Pick<TestContext, "expect" | "onTestFinished">, fault: string, run: number) {
    this.ctx = ctx;
    this.record = {
      fault,
      run,
      recovered: false,
      recoverMs: null,
      recoverBoundMs: null,
      violations: [],
      dataLostS: null,
      notes: [],
      durationMs: 0,
    };
    ctx.onTestFinished(() => {
      this.record.durationMs = Date.now() - this.started;
      const dir = inject("faultResults");
      appendFileSync(join(dir, "runs.jsonl"), `${JSON.stringify(this.record)}\n`);
      const logDir = join(dir, "logs");
      mkdirSync(logDir, { recursive: true });
      const slug = this.record.fault.replace(/[^a-zA-Z0-9]+/g, "-").toLowerCase();
      for (const log of this.logs) {
        if (existsSync(log.path)) copyFileSync(log.path, join(logDir, `${slug}-${run}-${log.name}.log`));
      }
    });
  }

  /** Recovery reached after `ms`; beyond `boundMs` it counts as a violation too. */
  recovered(ms: number, boundMs: number): void {
    this.record.recovered = true;
    this.record.recoverMs = Math.round(ms);
    this.record.recoverBoundMs = boundMs;
    if (ms > boundMs) this.violation(`recovery took ${fmt(ms)}, over the ${fmt(boundMs)} bound`);
  }

  /** Keeps these processes' logs in the results directory (operators are removed with their worker). */
  keepLog(...processes: { process: { name: string; logPath: string } }[]): void {
    for (const p of processes) this.logs.push({ name: p.process.name, path: p.process.logPath });
  }

  violation(what: string): void {
    this.record.violations.push(what);
  }

  violations(list: readonly string[]): void {
    for (const v of list) this.violation(v);
  }

  dataLost(seconds: number): void {
    this.record.dataLostS = Math.max(this.record.dataLostS ?? 0, Math.round(seconds * 10) / 10);
  }

  note(text: string): void {
    this.record.notes.push(text);
  }

  assertClean(): void {
    this.ctx.expect(this.record.violations, `${this.record.fault} run ${this.record.run}`).toEqual([]);
    this.ctx.expect(this.record.recovered, "recovered").toBe(true);
  }
}

function fmt(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`;
}
