// Leader election on a coordination.k8s.io/v1 Lease, the client-go way: candidates poll the Lease
// every retry period and take it once it has gone unrenewed for its duration by their own clock;
// the leader renews every retry period and stops leading (its signal aborts) when it has not
// renewed for the renew deadline, before anyone else may take over. release() hands over at once.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { KubeClient } from "./client.ts";
import { isAborted, sleep, systemClock, type Clock, type TimerHandle } from "./clock.ts";
import { KubeApiError } from "./errors.ts";
import {
  DEFAULT_LEASE_TIMINGS,
  acquiredRecord,
  apiCallTimeoutMs,
  heldByOther,
  observe,
  recordOf,
  releasedRecord,
  specOf,
  validateLeaseTimings,
  type LeaderRecord,
  type LeaseSpec,
  type LeaseTimings,
  type Observation,
} from "./lease-record.ts";
import { silentLogger, type Logger } from "./logger.ts";

export { LeaseConfigError, DEFAULT_LEASE_TIMINGS, type LeaseTimings } from "./lease-record.ts";

export type LeaseClient = Pick<KubeClient, "get" | "create" | "replace">;

export interface LeaderElectorOptions extends Partial<LeaseTimings> {
  client: LeaseClient;
  namespace: string;
  name: string;
  /** Unique per process: see leaseIdentity(). */
  identity: string;
  /** Runs the leader's work; `signal` aborts when leadership ends. A returned promise is awaited by release(). */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  onStoppedLeading?: () => void;
  /** Someone (maybe we) became the holder. */
  onNewLeader?: (identity: string) => void;
  /** Monotonic ms, for every judgement of time. */
  clock?: Clock;
  /** Wall time, only for the timestamps written into the Lease. */
  wallClock?: () => Date;
  random?: () => number;
  logger?: Logger;
}

/** `<pod name>_<random>`: a restarted pod is a new candidate, never mistaken for the old leader. */
export function leaseIdentity(podName: string = process.env.POD_NAME ?? hostname()): string {
  return `${podName}_${randomBytes(4).toString("hex")}`;
}

export class LeadershipLostError extends Error {
  override readonly name = "LeadershipLostError";
  readonly code = "LW_LEADERSHIP_LOST";
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; [field: string]: unknown };
  spec?: LeaseSpec;
}

interface Leading {
  readonly controller: AbortController;
  work: Promise<void>;
}

export class LeaderElector {
  readonly identity: string;
  private readonly options: LeaderElectorOptions;
  private readonly timings: LeaseTimings;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly path: string;
  private readonly itemPath: string;
  private observation: Observation | undefined;
  /** Our own last write, so a leader renews without reading first. */
  private ownLease: Lease | undefined;
  private reportedLeader: string | undefined;
  private leading: Leading | undefined;
  private running: { controller: AbortController; loop: Promise<void> } | undefined;

  constructor(options: LeaderElectorOptions) {
    this.timings = {
      leaseDurationMs: options.leaseDurationMs ?? DEFAULT_LEASE_TIMINGS.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs ?? DEFAULT_LEASE_TIMINGS.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs ?? DEFAULT_LEASE_TIMINGS.retryPeriodMs,
    };
    validateLeaseTimings(this.timings);
    this.options = options;
    this.identity = options.identity;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/leases`;
    this.itemPath = `${this.path}/${encodeURIComponent(options.name)}`;
  }

  get isLeader(): boolean {
    return this.leading !== undefined && !this.leading.controller.signal.aborted;
  }

  /** The holder we last saw, if any. */
  get leader(): string | undefined {
    const holder = this.observation?.record.holderIdentity;
    return holder === "" ? undefined : holder;
  }

  start(): void {
    if (this.running !== undefined) return;
    const controller = new AbortController();
    this.running = { controller, loop: this.run(controller.signal) };
  }

  /** Stops campaigning; if leading, stops leading and leaves the Lease to expire (a crash, in effect). */
  async stop(): Promise<void> {
    const running = this.running;
    if (running === undefined) return;
    running.controller.abort();
    await running.loop;
  }

  /**
   * Graceful hand-over (SIGTERM): stop campaigning, end the leader's work (its signal aborts and
   * its promise is awaited, up to the renew deadline), then write the Lease with no holder so
   * another replica takes over at its next try instead of after the lease duration.
   */
  async release(): Promise<void> {
    const leading = this.leading;
    await this.stop();
    if (leading === undefined || this.ownLease === undefined) return;
    const finished = await this.settle(leading.work, this.timings.renewDeadlineMs);
    if (!finished) {
      this.logger.warn(
        { lease: this.options.name },
        "leader work did not stop in time; letting the lease expire",
      );
      return;
    }
    try {
      await this.writeRelease(this.ownLease);
      this.logger.info({ lease: this.options.name, identity: this.identity }, "released the lease");
    } catch (err) {
      this.logger.warn(
        { lease: this.options.name, err: errorText(err) },
        "could not release the lease; it will expire",
      );
    }
    this.ownLease = undefined;
  }

  /** Writes "no holder"; if our copy is stale (a renewal cut short by stop() may have landed), retries once on a fresh read. */
  private async writeRelease(lease: Lease): Promise<void> {
    const timeoutMs = apiCallTimeoutMs(this.timings);
    const write = async (current: Lease): Promise<void> => {
      const record = releasedRecord(recordOf(current.spec), (this.options.wallClock ?? now)());
      await this.options.client.replace(this.itemPath, { ...current, spec: specOf(record) }, { timeoutMs });
    };
    try {
      await write(lease);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.conflict)) throw err;
      const fresh = await this.options.client.get<Lease>(this.itemPath, { timeoutMs });
      if (recordOf(fresh.spec).holderIdentity === this.identity) await write(fresh);
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const attemptStartedAt = this.clock.now();
      if ((await this.tryAcquireOrRenew(signal)) === "held") {
        await this.lead(signal, attemptStartedAt);
      } else {
        // Up to 20 % later, so candidates started together do not keep colliding.
        await sleep(this.clock, this.timings.retryPeriodMs * (1 + 0.2 * this.random()), signal);
      }
    }
  }

  /** Leads until the renew deadline passes without a renewal, or until stopped. */
  private async lead(signal: AbortSignal, acquiredAt: number): Promise<void> {
    const controller = new AbortController();
    const leading: Leading = { controller, work: Promise.resolve() };
    this.leading = leading;
    this.logger.info({ lease: this.options.name, identity: this.identity }, "started leading");
    leading.work = this.startWork(controller.signal);
    let deadline: TimerHandle | undefined;
    const armDeadline = (lastRenewStartedAt: number): void => {
      if (deadline !== undefined) this.clock.clearTimeout(deadline);
      const remaining = lastRenewStartedAt + this.timings.renewDeadlineMs - this.clock.now();
      deadline = this.clock.setTimeout(
        () => {
          controller.abort(
            new LeadershipLostError(
              `no renewal of lease ${this.options.name} within ${this.timings.renewDeadlineMs} ms`,
            ),
          );
        },
        Math.max(0, remaining),
      );
    };
    armDeadline(acquiredAt);
    const either = AbortSignal.any([signal, controller.signal]);
    while (!either.aborted) {
      await sleep(this.clock, this.timings.retryPeriodMs, either);
      if (isAborted(either)) break;
      const startedAt = this.clock.now();
      const attempt = await this.tryAcquireOrRenew(either);
      if (attempt === "held" && !controller.signal.aborted) armDeadline(startedAt);
      if (attempt === "taken") {
        controller.abort(
          new LeadershipLostError(`lease ${this.options.name} taken by ${this.leader ?? "another replica"}`),
        );
      }
    }
    if (deadline !== undefined) this.clock.clearTimeout(deadline);
    const lost = !signal.aborted;
    // Stopped on purpose (stop(), release()): the work ends with the stop's own reason, so it can
    // tell a hand-over (save state, then go) from a lost lease (stop acting at once).
    if (!controller.signal.aborted)
      controller.abort(lost ? new LeadershipLostError("stopped leading") : (signal.reason as unknown));
    if (lost) {
      this.ownLease = undefined;
      this.logger.warn({ lease: this.options.name, identity: this.identity }, "lost the lease; standing by");
    }
    this.safely("onStoppedLeading", () => this.options.onStoppedLeading?.());
  }

  private async startWork(signal: AbortSignal): Promise<void> {
    try {
      await this.options.onStartedLeading(signal);
    } catch (err) {
      this.logger.error({ lease: this.options.name, err: errorText(err) }, "leader work failed");
    }
  }

  /** One read-decide-write round: we hold the lease, another replica does, or we could not tell. */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<"held" | "taken" | "failed"> {
    const timeoutMs = apiCallTimeoutMs(this.timings);
    const durationSeconds = this.timings.leaseDurationMs / 1000;
    const wallNow = (this.options.wallClock ?? now)();
    try {
      let current = this.ownLease;
      if (current === undefined) {
        const read = await this.readOrCreate(signal, timeoutMs, wallNow);
        if (read === "created") return "held";
        current = read;
        this.saw(recordOf(current.spec));
        if (
          this.observation !== undefined &&
          heldByOther(this.observation, this.identity, this.clock.now())
        ) {
          return "taken";
        }
      }
      const record = acquiredRecord(recordOf(current.spec), this.identity, durationSeconds, wallNow);
      const written = await this.options.client.replace<Lease>(
        this.itemPath,
        { ...current, spec: specOf(record) },
        { signal, timeoutMs },
      );
      this.wrote(written, record);
      return "held";
    } catch (err) {
      if (signal.aborted) return "failed";
      // Read the Lease afresh next time (a conflict means someone else wrote it).
      this.ownLease = undefined;
      this.logger[err instanceof KubeApiError && err.conflict ? "debug" : "warn"](
        { lease: this.options.name, identity: this.identity, err: errorText(err) },
        "lease attempt failed",
      );
      return "failed";
    }
  }

  /** The Lease as stored, or "created" when there was none and we created it holding it. */
  private async readOrCreate(
    signal: AbortSignal,
    timeoutMs: number,
    wallNow: Date,
  ): Promise<Lease | "created"> {
    try {
      return await this.options.client.get<Lease>(this.itemPath, { signal, timeoutMs });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.notFound)) throw err;
    }
    const record = acquiredRecord(undefined, this.identity, this.timings.leaseDurationMs / 1000, wallNow);
    try {
      const created = await this.options.client.create<Lease>(
        this.path,
        {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: this.options.name, namespace: this.options.namespace },
          spec: specOf(record),
        },
        { signal, timeoutMs },
      );
      this.wrote(created, record);
      return "created";
    } catch (err) {
      // Another candidate created it first: judge its record now rather than a retry period later.
      if (!(err instanceof KubeApiError && err.conflict)) throw err;
      return await this.options.client.get<Lease>(this.itemPath, { signal, timeoutMs });
    }
  }

  private saw(record: LeaderRecord): void {
    this.observation = observe(this.observation, record, this.clock.now());
    this.reportLeader(record.holderIdentity);
  }

  private wrote(lease: Lease, record: LeaderRecord): void {
    this.ownLease = lease;
    this.observation = { record, observedAt: this.clock.now() };
    this.reportLeader(record.holderIdentity);
  }

  private reportLeader(holder: string): void {
    if (holder === "" || holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    this.logger.info({ lease: this.options.name, leader: holder }, "new leader");
    this.safely("onNewLeader", () => this.options.onNewLeader?.(holder));
  }

  private safely(what: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.logger.error({ lease: this.options.name, err: errorText(err) }, `${what} failed`);
    }
  }

  private async settle(work: Promise<void>, withinMs: number): Promise<boolean> {
    const timeout = Promise.withResolvers<boolean>();
    const timer = this.clock.setTimeout(() => {
      timeout.resolve(false);
    }, withinMs);
    const finished = await Promise.race([work.then(() => true), timeout.promise]);
    this.clock.clearTimeout(timer);
    return finished;
  }
}

function now(): Date {
  return new Date();
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
