// List + watch of one resource path into a cache of trimmed objects, with add/update/delete
// notifications. Unlike client-node's informer it never gives up: every failure (refused
// connection, 5xx, RBAC, a stream that breaks or goes silent, an event it cannot read) leads to a
// new watch after a jittered exponential backoff, 410 Expired leads to a relist whose diff against
// the cache yields the deletes we missed, and a periodic relist repairs anything else.
import { backoffDelay, jittered, validateBackoff, type BackoffOptions } from "./backoff.ts";
import {
  applyChange,
  changeForDelete,
  changeForUpsert,
  diffRelist,
  objectKey,
  type CacheEntry,
  type Change,
  type RawObject,
  type SameObject,
} from "./cache.ts";
import type { KubeClient } from "./client.ts";
import { isAborted, sleep, systemClock, type Clock, type TimerHandle } from "./clock.ts";
import { KubeApiError, KubeConnectionError, KubeError, KubeResponseError, KubeWatchError } from "./errors.ts";
import { silentLogger, type Logger } from "./logger.ts";
import { DEFAULT_MAX_EVENT_BYTES, LineSplitter, parseWatchEvent, type WatchEvent } from "./watch.ts";

export type ListWatchClient = Pick<KubeClient, "get" | "stream">;

export interface InformerBackoff extends BackoffOptions {
  /** A list+watch that stayed up this long was healthy: the next failure starts from initialMs again. */
  resetAfterMs: number;
}

export interface InformerOptions<S> {
  client: ListWatchClient;
  /** Collection path, e.g. `/api/v1/namespaces/NS/pods`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Keeps only the fields the controller reads; applied before caching. */
  trim: (raw: RawObject) => S;
  /** When given, an update whose trimmed object is unchanged is cached without notifying. */
  same?: SameObject<S>;
  /** Periodic full relist (default 10 min, ±10 %); 0 turns it off. */
  resyncMs?: number;
  /** Server-side watch timeout (default 300 s), stretched by up to 2× at random per watch. */
  watchTimeoutSeconds?: number;
  /** A watch that delivers no byte (not even a BOOKMARK, ~every minute) this long is restarted. */
  idleTimeoutMs?: number;
  /** Deadline of each list page, and of a watch's status line (default 30 s). */
  requestTimeoutMs?: number;
  /** Items per list page (default 500). */
  pageSize?: number;
  /** Largest single watch event (default 4 MiB); a longer line is an error, not unbounded memory. */
  maxEventBytes?: number;
  backoff?: Partial<InformerBackoff>;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  /** Names the informer in logs (default: the path). */
  name?: string;
}

export interface InformerHandlers<S> {
  add: (object: S, key: string) => void | Promise<void>;
  update: (object: S, old: S, key: string) => void | Promise<void>;
  /** Gets the last state we had cached. */
  delete: (object: S, key: string) => void | Promise<void>;
}

export interface InformerError {
  readonly message: string;
  readonly code: string;
  readonly at: number;
}

export interface InformerHealth {
  /** The first list completed (stays true: the cache may be stale, never empty by mistake). */
  readonly synced: boolean;
  /** A watch stream is open. */
  readonly watching: boolean;
  /** When data last arrived (list page, event or bookmark). */
  readonly lastEventAt: number | undefined;
  /** Since when no watch has been open after a failure (undefined while watching normally). */
  readonly downSince: number | undefined;
  readonly lastError: InformerError | undefined;
  /** Watches restarted after a failure. */
  readonly restarts: number;
  readonly relists: number;
  /** Handler or trim exceptions caught. */
  readonly handlerErrors: number;
}

export const INFORMER_DEFAULTS = {
  resyncMs: 10 * 60_000,
  watchTimeoutSeconds: 300,
  idleTimeoutMs: 90_000,
  requestTimeoutMs: 30_000,
  pageSize: 500,
  backoff: { initialMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 },
} as const;

const RESYNC_DUE = Symbol("resync due");

interface ListPage {
  metadata?: { resourceVersion?: unknown; continue?: unknown };
  items?: unknown;
}

type Handlers<S> = { [E in keyof InformerHandlers<S>]: Set<InformerHandlers<S>[E]> };

export class Informer<S> {
  private readonly options: InformerOptions<S>;
  private readonly backoff: InformerBackoff;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly name: string;
  private readonly handlers: Handlers<S> = { add: new Set(), update: new Set(), delete: new Set() };
  private cache = new Map<string, CacheEntry<S>>();
  private resourceVersion: string | undefined;
  private resyncAt = Infinity;
  private running: { controller: AbortController; loop: Promise<void> } | undefined;
  private syncWaiters = new Set<() => void>();
  private state = {
    synced: false,
    watching: false,
    lastEventAt: undefined as number | undefined,
    downSince: undefined as number | undefined,
    lastError: undefined as InformerError | undefined,
    restarts: 0,
    relists: 0,
    handlerErrors: 0,
  };

  constructor(options: InformerOptions<S>) {
    this.options = options;
    this.backoff = { ...INFORMER_DEFAULTS.backoff, ...options.backoff };
    validateBackoff(this.backoff, `informer ${options.path}`);
    for (const key of ["idleTimeoutMs", "requestTimeoutMs", "pageSize", "watchTimeoutSeconds"] as const) {
      const value = options[key];
      if (value !== undefined && !(value > 0))
        throw new RangeError(`informer ${options.path}: ${key} must be > 0`);
    }
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? silentLogger;
    this.name = options.name ?? options.path;
  }

  /** Registers a handler; returns its removal. Register before start() to see the initial adds. */
  on<E extends keyof InformerHandlers<S>>(event: E, handler: InformerHandlers<S>[E]): () => void {
    const set = this.handlers[event] as Set<InformerHandlers<S>[E]>;
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  get(key: string): S | undefined {
    return this.cache.get(key)?.object;
  }

  list(): ReadonlyArray<S> {
    return Array.from(this.cache.values(), (entry) => entry.object);
  }

  get size(): number {
    return this.cache.size;
  }

  get synced(): boolean {
    return this.state.synced;
  }

  health(): InformerHealth {
    return { ...this.state };
  }

  start(): void {
    if (this.running !== undefined) return;
    const controller = new AbortController();
    this.state.downSince ??= this.clock.now();
    this.running = { controller, loop: this.run(controller.signal) };
  }

  /** Stops watching and waits for the loop to end; the cache stays readable. */
  async stop(): Promise<void> {
    const running = this.running;
    if (running === undefined) return;
    running.controller.abort();
    await running.loop;
    this.running = undefined;
    this.state.watching = false;
    for (const wake of this.syncWaiters) wake();
  }

  /** Resolves once the first list is in; rejects when `signal` aborts or the informer stops first. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    while (!this.state.synced) {
      signal?.throwIfAborted();
      if (this.running === undefined) throw new Error(`informer ${this.name} is not running`);
      await new Promise<void>((wake) => {
        const done = (): void => {
          this.syncWaiters.delete(done);
          signal?.removeEventListener("abort", done);
          wake();
        };
        this.syncWaiters.add(done);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!isAborted(signal)) {
      const sessionStart = this.clock.now();
      try {
        if (this.resourceVersion === undefined || this.clock.now() >= this.resyncAt)
          await this.relist(signal);
        await this.watch(signal);
        failures = 0;
      } catch (err) {
        if (isAborted(signal)) break;
        if (this.clock.now() - sessionStart >= this.backoff.resetAfterMs) failures = 0;
        const expired = err instanceof KubeApiError && err.expired;
        if (expired) this.resourceVersion = undefined;
        // The first 410 relists at once (client-go does too); anything repeated backs off.
        const delayMs =
          expired && failures === 0 ? 0 : backoffDelay(failures, this.backoff, this.random, "full");
        failures++;
        this.recordFailure(err, delayMs, failures);
        await sleep(this.clock, delayMs, signal);
      }
    }
  }

  private recordFailure(err: unknown, delayMs: number, failures: number): void {
    const now = this.clock.now();
    const code = err instanceof KubeError ? err.code : "LW_UNKNOWN";
    const message = err instanceof Error ? err.message : String(err);
    this.state.lastError = { message, code, at: now };
    this.state.restarts++;
    this.state.watching = false;
    this.state.downSince ??= now;
    const expired = err instanceof KubeApiError && err.expired;
    this.logger[expired ? "info" : "warn"](
      { informer: this.name, code, err: message, retryInMs: Math.round(delayMs), failures },
      expired ? "watch expired; listing again" : "list/watch failed; retrying",
    );
  }

  /** Reads every page, then replaces the cache and notifies the difference. */
  private async relist(signal: AbortSignal): Promise<void> {
    const listed = new Map<string, CacheEntry<S>>();
    let continueToken: string | undefined;
    let resourceVersion = "";
    do {
      const page = await this.options.client.get<ListPage>(this.options.path, {
        query: {
          limit: this.options.pageSize ?? INFORMER_DEFAULTS.pageSize,
          continue: continueToken,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
        },
        signal,
        timeoutMs: this.options.requestTimeoutMs ?? INFORMER_DEFAULTS.requestTimeoutMs,
      });
      const { items, metadata } = page;
      if (!Array.isArray(items) || typeof metadata?.resourceVersion !== "string") {
        throw new KubeResponseError(`list ${this.options.path}: answer is not a list`);
      }
      for (const raw of items as RawObject[]) {
        const key = objectKey(raw);
        const entry = key === undefined ? undefined : this.toEntry(raw);
        if (key !== undefined && entry !== undefined) listed.set(key, entry);
      }
      resourceVersion = metadata.resourceVersion;
      continueToken =
        typeof metadata.continue === "string" && metadata.continue !== "" ? metadata.continue : undefined;
      this.state.lastEventAt = this.clock.now();
    } while (continueToken !== undefined);

    const changes = diffRelist(this.cache, listed, this.options.same);
    this.cache = listed;
    this.resourceVersion = resourceVersion;
    this.state.relists++;
    const resyncMs = this.options.resyncMs ?? INFORMER_DEFAULTS.resyncMs;
    this.resyncAt = resyncMs > 0 ? this.clock.now() + jittered(resyncMs, 0.1, this.random) : Infinity;
    this.logger.debug(
      { informer: this.name, objects: listed.size, changes: changes.length, resourceVersion },
      "listed",
    );
    for (const change of changes) this.notify(change);
    if (!this.state.synced) {
      this.state.synced = true;
      for (const wake of this.syncWaiters) wake();
    }
  }

  /** One watch from the resourceVersion we hold; returns on a clean end or when a resync is due. */
  private async watch(signal: AbortSignal): Promise<void> {
    const session = new AbortController();
    const sessionSignal = AbortSignal.any([signal, session.signal]);
    const baseTimeout = this.options.watchTimeoutSeconds ?? INFORMER_DEFAULTS.watchTimeoutSeconds;
    const timeoutSeconds = Math.max(1, Math.round(baseTimeout * (1 + this.random())));
    const res = await this.options.client.stream(this.options.path, {
      query: {
        watch: true,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
      },
      signal: sessionSignal,
      connectTimeoutMs: this.options.requestTimeoutMs ?? INFORMER_DEFAULTS.requestTimeoutMs,
    });
    const openedAt = this.clock.now();
    let lastDataAt = openedAt;
    this.state.watching = true;
    this.state.downSince = undefined;
    const timers: TimerHandle[] = [];
    const idleMs = this.options.idleTimeoutMs ?? INFORMER_DEFAULTS.idleTimeoutMs;
    // One timer per idle period, not one per chunk: it re-arms for whatever is left of the period.
    const checkIdle = (): void => {
      const quietMs = this.clock.now() - lastDataAt;
      if (quietMs >= idleMs) {
        session.abort(
          new KubeWatchError(
            "Idle",
            `watch ${this.options.path}: nothing received for ${Math.round(quietMs)} ms`,
          ),
        );
      } else {
        timers.push(this.clock.setTimeout(checkIdle, idleMs - quietMs));
      }
    };
    timers.push(this.clock.setTimeout(checkIdle, idleMs));
    if (this.resyncAt !== Infinity) {
      timers.push(
        this.clock.setTimeout(
          () => {
            session.abort(RESYNC_DUE);
          },
          Math.max(0, this.resyncAt - openedAt),
        ),
      );
    }
    const splitter = new LineSplitter(this.options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES);
    try {
      for await (const chunk of res) {
        lastDataAt = this.clock.now();
        this.state.lastEventAt = lastDataAt;
        for (const line of splitter.push(chunk as Buffer)) {
          const event = parseWatchEvent(line, this.options.path);
          if (event !== undefined) this.handleEvent(event);
        }
      }
      if (splitter.pendingBytes > 0) {
        throw new KubeWatchError("Malformed", `watch ${this.options.path}: stream ended inside an event`);
      }
      // The server ends a watch at timeoutSeconds; far earlier means trouble (an API server going
      // down, a proxy), and must back off rather than spin.
      const openMs = this.clock.now() - openedAt;
      if (openMs < (timeoutSeconds * 1000) / 2) {
        throw new KubeWatchError(
          "ClosedEarly",
          `watch ${this.options.path}: closed by the server after ${Math.round(openMs)} ms`,
        );
      }
      this.logger.debug({ informer: this.name, openMs: Math.round(openMs) }, "watch ended; watching again");
    } catch (err) {
      if (!session.signal.aborted || signal.aborted) throw asKubeError(err, this.options.path);
      if (session.signal.reason === RESYNC_DUE) return;
      throw session.signal.reason;
    } finally {
      for (const timer of timers) this.clock.clearTimeout(timer);
      res.destroy();
      this.state.watching = false;
    }
  }

  private handleEvent(event: WatchEvent): void {
    if (event.type === "ERROR") throw event.error;
    if (event.type !== "BOOKMARK") {
      const change = this.changeFor(event.type, event.object);
      if (change !== undefined) this.notify(change);
    }
    // parseWatchEvent guarantees a resourceVersion (were it missing, the next watch would relist).
    this.resourceVersion = event.object.metadata?.resourceVersion;
  }

  private changeFor(type: "ADDED" | "MODIFIED" | "DELETED", raw: RawObject): Change<S> | undefined {
    const key = objectKey(raw);
    if (key === undefined) {
      this.logger.warn({ informer: this.name, type }, "watch event for an object without a name");
      return undefined;
    }
    if (type === "DELETED") return changeForDelete(this.cache, key);
    const entry = this.toEntry(raw);
    return entry === undefined ? undefined : changeForUpsert(this.cache, key, entry, this.options.same);
  }

  private toEntry(raw: RawObject): CacheEntry<S> | undefined {
    try {
      return { object: this.options.trim(raw), resourceVersion: raw.metadata?.resourceVersion ?? "" };
    } catch (err) {
      this.reportHandlerError(err, "trim", objectKey(raw));
      return undefined;
    }
  }

  /** Applies a change to the cache, then tells the handlers; their failures stay here. */
  private notify(change: Change<S>): void {
    applyChange(this.cache, change);
    switch (change.type) {
      case "add":
        for (const handler of this.handlers.add)
          this.call("add", change.key, () => handler(change.entry.object, change.key));
        return;
      case "update":
        if (change.quiet) return;
        for (const handler of this.handlers.update) {
          this.call("update", change.key, () => handler(change.entry.object, change.old.object, change.key));
        }
        return;
      case "delete":
        for (const handler of this.handlers.delete)
          this.call("delete", change.key, () => handler(change.old.object, change.key));
        return;
    }
  }

  private call(what: string, key: string, invoke: () => void | Promise<void>): void {
    try {
      const result = invoke();
      if (result instanceof Promise) {
        result.catch((err: unknown) => {
          this.reportHandlerError(err, what, key);
        });
      }
    } catch (err) {
      this.reportHandlerError(err, what, key);
    }
  }

  private reportHandlerError(err: unknown, what: string, key: string | undefined): void {
    this.state.handlerErrors++;
    this.logger.error(
      { informer: this.name, key, err: err instanceof Error ? err.message : String(err) },
      `${what} handler failed`,
    );
  }
}

function asKubeError(err: unknown, path: string): unknown {
  if (err instanceof KubeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new KubeConnectionError(`watch ${path}: ${message}`, { cause: err });
}

/** Why an informer should fail /healthz, or undefined when it is fine. */
export function informerUnhealthyReason(
  health: InformerHealth,
  now: number,
  maxDownMs: number,
): string | undefined {
  if (health.downSince === undefined || now - health.downSince < maxDownMs) return undefined;
  const seconds = Math.round((now - health.downSince) / 1000);
  const cause = health.lastError === undefined ? "" : `: ${health.lastError.message}`;
  return health.synced ? `watch down for ${seconds} s${cause}` : `not synced after ${seconds} s${cause}`;
}
