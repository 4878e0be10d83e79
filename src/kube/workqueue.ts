// A keyed work queue that runs reconciles, in the controller-runtime mould: a key is queued once
// however often it is added, never runs twice at the same time (added while running, it runs once
// more after), at most `concurrency` keys run at once, failures come back after a per-key backoff,
// and `requeueAfterMs` asks for a timed revisit. Reconciles get a key, never an event: they read the
// current state and are level-triggered. No I/O here; the clock is injected.
import { randomUUID } from "node:crypto";
import { systemClock, type Clock, type TimerHandle } from "./clock.ts";
import { silentLogger, type Logger } from "./logger.ts";
import { DEFAULT_RETRY, retryPolicy, type RetryDecision } from "./retry.ts";

export { TerminalError, retryPolicy, type RetryDecision } from "./retry.ts";

/** What a successful reconcile asks for next; build it with `done()` or `requeueAfter(ms)`. */
export interface ReconcileResult {
  /** Run again after this long even if nothing changes (0: at once, after the queue's other keys). */
  readonly requeueAfterMs?: number;
}

/** Nothing more to do until the key is added again. */
export function done(): ReconcileResult {
  return {};
}

/** A timed revisit (polling, a safety net), not a failure: the key's backoff is reset. */
export function requeueAfter(ms: number): ReconcileResult {
  if (!(ms >= 0)) throw new RangeError(`requeueAfter needs ms >= 0 (got ${ms})`);
  return { requeueAfterMs: ms };
}

export interface ReconcileContext {
  /** Aborts at the reconcile deadline and at shutdown. */
  readonly signal: AbortSignal;
  /** Unique per run, for logs. */
  readonly reconcileId: string;
  /** Failures of this key since its last success (0 on a first try). */
  readonly failures: number;
}

export type Reconciler = (
  key: string,
  context: ReconcileContext,
) => Promise<ReconcileResult> | ReconcileResult;

export type ReconcileOutcome = "success" | "requeue" | "error" | "terminal";

/** Plain callbacks for metrics; the queue imports no metrics library. */
export interface WorkQueueMetrics {
  /** Keys waiting to run (not counting delayed ones), after every change. */
  depth?(depth: number): void;
  added?(key: string): void;
  /** Time from being queued to starting. */
  waited?(key: string, ms: number): void;
  retried?(key: string, delayMs: number): void;
  reconciled?(key: string, outcome: ReconcileOutcome, durationMs: number): void;
}

export interface WorkQueueOptions {
  reconcile: Reconciler;
  /** Keys reconciled at the same time (default 1). */
  concurrency?: number;
  /** Each run's signal aborts after this long (default 60 s; 0: no deadline). */
  reconcileTimeoutMs?: number;
  /** Default: `retryPolicy` (TerminalError is terminal, 1 s … 5 min otherwise). */
  retryPolicy?: (err: unknown, attempt: number) => RetryDecision;
  name?: string;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  metrics?: WorkQueueMetrics;
  newReconcileId?: () => string;
}

/** Why a reconcile's signal aborted. */
export class ReconcileAbortedError extends Error {
  override readonly name = "ReconcileAbortedError";
  readonly code = "LW_RECONCILE_ABORTED";
  readonly reason: "deadline" | "shutdown";
  constructor(reason: "deadline" | "shutdown", message: string) {
    super(message);
    this.reason = reason;
  }
}

interface Running {
  readonly controller: AbortController;
  done: Promise<void>;
}

export class WorkQueue {
  private readonly options: WorkQueueOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: WorkQueueMetrics;
  private readonly concurrency: number;
  private readonly policy: (err: unknown, attempt: number) => RetryDecision;
  private readonly name: string;
  private ready: string[] = [];
  private readyHead = 0;
  private readonly queued = new Map<string, number>(); // key → when it was queued
  private readonly running = new Map<string, Running>();
  private readonly rerun = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: TimerHandle }>();
  private readonly failures = new Map<string, number>();
  private stopping: Promise<void> | undefined;

  constructor(options: WorkQueueOptions) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`work queue: concurrency must be a positive integer (got ${concurrency})`);
    }
    if (options.reconcileTimeoutMs !== undefined && !(options.reconcileTimeoutMs >= 0)) {
      throw new RangeError("work queue: reconcileTimeoutMs must be >= 0");
    }
    this.options = options;
    this.concurrency = concurrency;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? {};
    this.name = options.name ?? "queue";
    const random = options.random ?? Math.random;
    this.policy = options.retryPolicy ?? ((err, attempt) => retryPolicy(err, attempt, DEFAULT_RETRY, random));
  }

  /** Queues `key` unless it already is; a running key runs once more when it finishes. */
  add(key: string): void {
    if (this.stopping !== undefined) return;
    this.metrics.added?.(key);
    if (this.queued.has(key)) return;
    if (this.running.has(key)) {
      this.rerun.add(key);
      return;
    }
    this.queued.set(key, this.clock.now());
    this.ready.push(key);
    this.metrics.depth?.(this.depth);
    this.dispatch();
  }

  /** Adds `key` after `ms`; of several pending delayed adds of one key, the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopping !== undefined) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      this.clock.clearTimeout(pending.timer);
    }
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  /** Resets the key's backoff (a success does this too). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Failures of `key` since its last success. */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys waiting to run now. */
  get depth(): number {
    return this.ready.length - this.readyHead;
  }

  /** Keys running now. */
  get active(): number {
    return this.running.size;
  }

  /** Keys waiting for a delayed add. */
  get scheduled(): number {
    return this.delayed.size;
  }

  /**
   * Stops taking work: queued and delayed keys are dropped (whoever runs next starts from a
   * fresh list), running reconciles get `graceMs` to finish, then their signals abort. Resolves
   * once every running reconcile has returned.
   */
  async shutdown(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= this.drain(options.graceMs ?? 10_000);
    return this.stopping;
  }

  private async drain(graceMs: number): Promise<void> {
    for (const { timer } of this.delayed.values()) this.clock.clearTimeout(timer);
    this.delayed.clear();
    this.ready = [];
    this.readyHead = 0;
    this.queued.clear();
    this.rerun.clear();
    this.metrics.depth?.(0);
    const allDone = async (): Promise<void> => {
      await Promise.all([...this.running.values()].map(async (r) => r.done));
    };
    if (this.running.size === 0) return;
    const grace = Promise.withResolvers<undefined>();
    const graceTimer = this.clock.setTimeout(() => {
      grace.resolve(undefined);
    }, graceMs);
    await Promise.race([allDone(), grace.promise]);
    this.clock.clearTimeout(graceTimer);
    for (const run of this.running.values()) {
      run.controller.abort(new ReconcileAbortedError("shutdown", `${this.name} is shutting down`));
    }
    await allDone();
  }

  private dispatch(): void {
    while (this.stopping === undefined && this.running.size < this.concurrency && this.depth > 0) {
      const key = this.ready[this.readyHead] as string;
      this.readyHead++;
      if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
        this.ready = this.ready.slice(this.readyHead);
        this.readyHead = 0;
      }
      const queuedAt = this.queued.get(key) ?? this.clock.now();
      this.queued.delete(key);
      this.metrics.depth?.(this.depth);
      this.metrics.waited?.(key, this.clock.now() - queuedAt);
      this.start(key);
    }
  }

  private start(key: string): void {
    const controller = new AbortController();
    const failures = this.failuresOf(key);
    const reconcileId = (this.options.newReconcileId ?? randomUUID)();
    const timeoutMs = this.options.reconcileTimeoutMs ?? 60_000;
    const deadline =
      timeoutMs > 0
        ? this.clock.setTimeout(() => {
            controller.abort(
              new ReconcileAbortedError("deadline", `reconcile of ${key} passed ${timeoutMs} ms`),
            );
          }, timeoutMs)
        : undefined;
    const startedAt = this.clock.now();
    const context: ReconcileContext = { signal: controller.signal, reconcileId, failures };
    // Registered before the reconcile starts: a synchronous throw finishes the run at once.
    const run: Running = { controller, done: Promise.resolve() };
    this.running.set(key, run);
    run.done = (async () => {
      let outcome: { ok: true; result: ReconcileResult } | { ok: false; err: unknown };
      try {
        outcome = { ok: true, result: await this.options.reconcile(key, context) };
      } catch (err) {
        outcome = { ok: false, err };
      }
      if (deadline !== undefined) this.clock.clearTimeout(deadline);
      this.running.delete(key);
      const durationMs = this.clock.now() - startedAt;
      try {
        if (outcome.ok) this.succeeded(key, outcome.result, durationMs, reconcileId);
        else this.failed(key, outcome.err, failures + 1, durationMs, reconcileId);
        if (this.rerun.delete(key)) this.add(key);
      } catch (err) {
        // A throwing metrics hook or retry policy must not stall the queue.
        this.logger.error(
          { queue: this.name, key, reconcileId, err: String(err) },
          "work queue bookkeeping failed",
        );
      } finally {
        this.dispatch();
      }
    })();
  }

  private succeeded(key: string, result: ReconcileResult, durationMs: number, reconcileId: string): void {
    this.forget(key);
    const requeueAfterMs = result.requeueAfterMs;
    const requeue = requeueAfterMs !== undefined && requeueAfterMs >= 0;
    this.metrics.reconciled?.(key, requeue ? "requeue" : "success", durationMs);
    this.logger.debug({ queue: this.name, key, reconcileId, durationMs, requeueAfterMs }, "reconciled");
    if (requeue) this.addAfter(key, requeueAfterMs);
  }

  private failed(key: string, err: unknown, attempt: number, durationMs: number, reconcileId: string): void {
    const decision = this.policy(err, attempt);
    const message = err instanceof Error ? err.message : String(err);
    if (decision === "terminal") {
      this.forget(key);
      this.metrics.reconciled?.(key, "terminal", durationMs);
      this.logger.error(
        { queue: this.name, key, reconcileId, durationMs, err: message },
        "reconcile failed for good; not retrying",
      );
      return;
    }
    this.metrics.reconciled?.(key, "error", durationMs);
    if (this.stopping !== undefined) return;
    this.failures.set(key, attempt);
    this.metrics.retried?.(key, decision.retryAfterMs);
    this.logger.warn(
      {
        queue: this.name,
        key,
        reconcileId,
        durationMs,
        attempt,
        retryInMs: Math.round(decision.retryAfterMs),
        err: message,
      },
      "reconcile failed; retrying",
    );
    this.addAfter(key, decision.retryAfterMs);
  }
}
