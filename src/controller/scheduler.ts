// The scrape scheduler: every target runs on its own period with a random phase (so 5,000 targets
// on a 60 s interval spread evenly instead of firing together), under one global concurrency limit.
// One timer for all targets (a min-heap of due times), not one per target. A job that overruns its
// period skips the missed slots instead of piling up; a failing job can ask for a longer delay.

import { systemClock, type Clock, type TimerHandle } from "../kube/clock.ts";

export interface JobOutcome {
  /** Run next after this delay instead of the regular period (backoff for failing targets). */
  delayMs?: number;
}

export type JobRun = (signal: AbortSignal) => Promise<JobOutcome | undefined>;

export interface SchedulerOptions {
  concurrency: number;
  clock?: Clock;
  random?: () => number;
  /** Called when a job starts: how late it is against its due time (ms). */
  onStart?: (key: string, lagMs: number) => void;
  /** A job's run threw (runs should catch their own errors; this is the safety net). */
  onError?: (key: string, err: unknown) => void;
}

interface Job {
  key: string;
  periodMs: number;
  due: number;
  run: JobRun;
  running: boolean;
  /** runSoon() arrived while running: start again right after. */
  soon: boolean;
  removed: boolean;
  /** Bumped on every reschedule, so stale heap entries are skipped. */
  generation: number;
}

export class ScrapeScheduler {
  private readonly jobs = new Map<string, Job>();
  private readonly heap: { due: number; job: Job; generation: number }[] = [];
  private readonly ready: Job[] = [];
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly options: SchedulerOptions;
  private readonly controller = new AbortController();
  private timer: TimerHandle | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  private active = 0;
  private readonly idle = new Set<() => void>();

  constructor(options: SchedulerOptions) {
    if (!(options.concurrency >= 1)) throw new RangeError("concurrency must be at least 1");
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  get size(): number {
    return this.jobs.size;
  }

  get running(): number {
    return this.active;
  }

  has(key: string): boolean {
    return this.jobs.has(key);
  }

  /** Adds a job (first run at a random point within one period) or updates its period and run. */
  upsert(key: string, periodMs: number, run: JobRun): void {
    const existing = this.jobs.get(key);
    if (existing !== undefined) {
      existing.run = run;
      if (existing.periodMs !== periodMs) {
        existing.periodMs = periodMs;
        if (!existing.running) this.schedule(existing, this.clock.now() + this.random() * periodMs);
      }
      return;
    }
    const job: Job = {
      key,
      periodMs,
      due: 0,
      run,
      running: false,
      soon: false,
      removed: false,
      generation: 0,
    };
    this.jobs.set(key, job);
    this.schedule(job, this.clock.now() + this.random() * periodMs);
  }

  /** Runs a job as soon as a slot is free (e.g. a fresh capture after a verdict change). */
  runSoon(key: string): void {
    const job = this.jobs.get(key);
    if (job === undefined) return;
    if (job.running) job.soon = true;
    else this.schedule(job, this.clock.now());
  }

  remove(key: string): void {
    const job = this.jobs.get(key);
    if (job === undefined) return;
    job.removed = true;
    job.generation++;
    this.jobs.delete(key);
  }

  keys(): IterableIterator<string> {
    return this.jobs.keys();
  }

  /** Stops scheduling, aborts running jobs' signals, and waits for them to finish. */
  async stop(): Promise<void> {
    this.controller.abort();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.jobs.clear();
    this.ready.length = 0;
    this.heap.length = 0;
    if (this.active === 0) return;
    await new Promise<void>((resolveIdle) => this.idle.add(resolveIdle));
  }

  private schedule(job: Job, due: number): void {
    job.due = due;
    job.generation++;
    heapPush(this.heap, { due, job, generation: job.generation });
    this.arm();
  }

  private arm(): void {
    if (this.controller.signal.aborted) return;
    const next = this.heap[0];
    if (next === undefined) return;
    if (this.timer !== undefined && this.timerDue <= next.due) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerDue = next.due;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.timerDue = Number.POSITIVE_INFINITY;
        this.tick();
      },
      Math.max(0, next.due - this.clock.now()),
    );
  }

  private tick(): void {
    const now = this.clock.now();
    for (let top = this.heap[0]; top !== undefined && top.due <= now; top = this.heap[0]) {
      heapPop(this.heap);
      if (top.generation !== top.job.generation || top.job.removed || top.job.running) continue;
      this.ready.push(top.job);
    }
    this.drain();
    this.arm();
  }

  private drain(): void {
    while (this.active < this.options.concurrency && !this.controller.signal.aborted) {
      const job = this.ready.shift();
      if (job === undefined) return;
      if (job.removed || job.running) continue;
      this.start(job);
    }
  }

  private start(job: Job): void {
    job.running = true;
    this.active++;
    const started = this.clock.now();
    this.options.onStart?.(job.key, Math.max(0, started - job.due));
    const dueAtStart = job.due;
    void job
      .run(this.controller.signal)
      .catch((err: unknown) => {
        this.options.onError?.(job.key, err);
        return undefined;
      })
      .then((outcome) => {
        job.running = false;
        this.active--;
        if (!job.removed && !this.controller.signal.aborted) {
          const now = this.clock.now();
          let next: number;
          if (outcome?.delayMs !== undefined) {
            next = now + outcome.delayMs;
          } else {
            // Keep the phase; skip slots that passed while the job ran long.
            next = dueAtStart + job.periodMs;
            if (next <= now)
              next = dueAtStart + (Math.floor((now - dueAtStart) / job.periodMs) + 1) * job.periodMs;
          }
          if (job.soon) next = now;
          job.soon = false;
          this.schedule(job, next);
        }
        if (this.active === 0 && this.controller.signal.aborted) for (const wake of this.idle) wake();
        this.drain();
      });
  }
}

type Entry = { due: number; job: Job; generation: number };

function heapPush(heap: Entry[], entry: Entry): void {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent];
    if (p === undefined || p.due <= entry.due) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = entry;
}

function heapPop(heap: Entry[]): Entry | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let smallest = i;
    let smallestDue = last.due;
    const left = heap[l];
    const right = heap[r];
    if (left !== undefined && left.due < smallestDue) {
      smallest = l;
      smallestDue = left.due;
    }
    if (right !== undefined && right.due < smallestDue) smallest = r;
    if (smallest === i) break;
    const child = heap[smallest];
    if (child === undefined) break;
    heap[i] = child;
    i = smallest;
  }
  heap[i] = last;
  return top;
}
