// One budget of inflated profile bytes shared by every scrape in flight, so N concurrent scrapes
// each allowed the decompressed cap cannot together outgrow the operator's memory. Pure
// accounting: no I/O, no clock; waits end by the caller's AbortSignal (its deadline).
//
// A scrape reserves as its profile inflates, chunk by chunk, not its cap up front: reserving the
// cap would let only budget ÷ cap scrapes run at all, while real profiles are a small fraction
// of the cap. Reserving while holding can deadlock (every holder waiting for another's bytes), so
// when all holders wait, the youngest of them is refused (InflightBudgetError) and its bytes go
// to the older ones. Every scrape's total is at most the cap, which is at most the budget, so the
// oldest always finishes.
import { InflightBudgetError } from "./errors.ts";

/** What the profile engine needs of a budget while it inflates. */
export interface InflateAllowance {
  /** Resolves once `bytes` more may be held; rejects (InflightBudgetError, or the abort) if not. */
  reserve(bytes: number, signal?: AbortSignal): Promise<void>;
  /** Gives back bytes reserved but not kept. */
  unreserve(bytes: number): void;
  /** A wait for room ended because its signal fired (the deadline passed while waiting). */
  readonly starved: boolean;
  /** The error to report for a scrape that starved: says why, unlike a bare timeout. */
  starvedError(cause: unknown): InflightBudgetError;
}

interface Waiter {
  readonly lease: InflightLease;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly cleanup: () => void;
}

export class InflightBudget {
  readonly limitBytes: number;
  /** Bytes held by all leases. */
  used = 0;
  private readonly waiters: Waiter[] = [];
  /** Leases holding bytes. */
  private holders = 0;
  private nextSeq = 0;

  constructor(limitBytes: number) {
    if (!(Number.isSafeInteger(limitBytes) && limitBytes > 0)) {
      throw new RangeError(`inflight budget must be a positive integer of bytes (got ${limitBytes})`);
    }
    this.limitBytes = limitBytes;
  }

  /** A lease for one scrape: reserve while inflating, release() once its profiles are dropped. */
  lease(): InflightLease {
    return new InflightLease(this, this.nextSeq++);
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** @internal */
  reserve(lease: InflightLease, bytes: number, signal: AbortSignal | undefined): Promise<void> {
    if (bytes > this.limitBytes - lease.held) {
      return Promise.reject(
        new InflightBudgetError(this.limitBytes, lease.held, `${bytes} more bytes would pass it alone`),
      );
    }
    if ((this.waiters.length === 0 || lease.held > 0) && this.used + bytes <= this.limitBytes) {
      this.take(lease, bytes);
      return Promise.resolve();
    }
    if (signal?.aborted === true) {
      lease.starved = true;
      return Promise.reject(signalReason(signal));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.drop(waiter)) return;
        lease.starved = true;
        reject(signalReason(signal));
        this.settle();
      };
      const waiter: Waiter = {
        lease,
        bytes,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
      this.settle();
    });
  }

  /** @internal */
  give(lease: InflightLease, bytes: number): void {
    const n = Math.min(bytes, lease.held);
    lease.held -= n;
    this.used -= n;
    if (lease.held === 0 && n > 0) this.holders--;
    this.settle();
  }

  private grant(w: Waiter): void {
    this.drop(w);
    this.take(w.lease, w.bytes);
    w.resolve();
  }

  private take(lease: InflightLease, bytes: number): void {
    if (lease.held === 0 && bytes > 0) this.holders++;
    lease.held += bytes;
    this.used += bytes;
  }

  /** Removes a waiter; false if it was already gone (granted or refused). */
  private drop(waiter: Waiter): boolean {
    const at = this.waiters.indexOf(waiter);
    if (at < 0) return false;
    this.waiters.splice(at, 1);
    waiter.cleanup();
    return true;
  }

  /**
   * Grants what fits: first scrapes already holding bytes (part-way through, they give it all back
   * when done), then new ones in arrival order. Then breaks a deadlock if there is one.
   */
  private settle(): void {
    for (const w of this.waiters.slice()) {
      if (w.lease.held > 0 && this.used + w.bytes <= this.limitBytes) this.grant(w);
    }
    for (let head = this.waiters[0]; head !== undefined; head = this.waiters[0]) {
      if (this.used + head.bytes > this.limitBytes) break;
      this.grant(head);
    }
    if (this.waiters.length === 0 || this.holders === 0) return;
    // Every holder waits for bytes only another holder can give back: refuse the youngest.
    let waitingHolders = 0;
    let youngest: Waiter | undefined;
    for (const w of this.waiters) {
      if (w.lease.held === 0) continue;
      waitingHolders++;
      if (youngest === undefined || w.lease.seq > youngest.lease.seq) youngest = w;
    }
    if (youngest === undefined || waitingHolders < this.holders) return;
    this.drop(youngest);
    youngest.reject(
      new InflightBudgetError(
        this.limitBytes,
        youngest.lease.held,
        "every scrape holding bytes was waiting for more; the youngest gives way",
      ),
    );
  }
}

/** One scrape's share of an InflightBudget. */
export class InflightLease implements InflateAllowance {
  held = 0;
  starved = false;
  readonly seq: number;
  private readonly budget: InflightBudget;

  constructor(budget: InflightBudget, seq: number) {
    this.budget = budget;
    this.seq = seq;
  }

  reserve(bytes: number, signal?: AbortSignal): Promise<void> {
    return this.budget.reserve(this, bytes, signal);
  }

  unreserve(bytes: number): void {
    this.budget.give(this, bytes);
  }

  /** Gives back everything held: call when the scrape's profiles are no longer referenced. */
  release(): void {
    this.budget.give(this, this.held);
  }

  starvedError(cause: unknown): InflightBudgetError {
    return new InflightBudgetError(
      this.budget.limitBytes,
      this.held,
      "the scrape's deadline passed while it waited",
      { cause },
    );
  }
}

function signalReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException("The operation was aborted", "AbortError");
}
