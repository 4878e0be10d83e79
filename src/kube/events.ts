// An events.k8s.io/v1 recorder, aggregating the way client-go's events recorder does: a repeat of
// the same event within a window becomes a `series` on the existing Event, not a new object, and
// writes per event are rate-limited. Events are best-effort: a failed write is logged, counted and
// returned, never thrown, so no reconcile waits on or fails because of an event.
import { randomBytes } from "node:crypto";
import { CONTROLLER_NAME } from "../api/group.ts";
import type { KubeClient } from "./client.ts";
import { KubeError, isNotFound } from "./errors.ts";
import { silentLogger, type Logger } from "./logger.ts";
import { shortHash } from "./ownership.ts";
import { formatMicroTime, truncateUtf8 } from "./text.ts";

export { truncateUtf8 } from "./text.ts";

/** The API's limits, counted in bytes (validation uses Go's len). */
export const EVENT_LIMITS = { note: 1024, reason: 128, action: 128, reportingInstance: 128 } as const;

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export type EventType = "Normal" | "Warning";

export interface EventInput {
  regarding: ObjectRef;
  related?: ObjectRef;
  type: EventType;
  /** Machine-readable, CamelCase: MemoryLeakDetected. */
  reason: string;
  /** What was done or is about to be: Detect, Capture, Restart. */
  action: string;
  /** Human-readable; cut to 1024 UTF-8 bytes. */
  note: string;
  /**
   * What makes two notes "the same event" when their details (figures) differ; defaults to the
   * whole note. The Event keeps the first note: the API forbids changing it.
   */
  seriesKey?: string;
}

export type EventOutcome =
  | { result: "created"; name: string; count: number }
  | { result: "series-updated"; name: string; count: number }
  /** Counted in memory; written with the next write for this event, or by flush(). */
  | { result: "aggregated"; name: string; count: number }
  | { result: "failed"; name: string; error: KubeError | Error };

export interface EventRecorderOptions {
  client: Pick<KubeClient, "create" | "patch">;
  /** This replica's identity (pod name), ≤ 128 bytes. */
  reportingInstance: string;
  logger?: Logger;
  now?: () => number;
  /** A repeat after this long without one starts a new Event (default 30 min, inside the 1 h TTL). */
  seriesWindowMs?: number;
  /** At most one write per event in this time (default 5 min); repeats in between are counted. */
  minWriteIntervalMs?: number;
  /** Distinct events remembered at once (default 4096); the oldest are forgotten first. */
  maxTracked?: number;
  /** Deadline of one write (default 5 s). */
  requestTimeoutMs?: number;
}

export interface EventCounters {
  created: number;
  seriesUpdated: number;
  aggregated: number;
  failed: number;
}

interface Tracked {
  readonly key: string;
  readonly input: EventInput;
  name: string;
  created: boolean;
  firstMs: number;
  count: number;
  writtenCount: number;
  lastObservedMs: number;
  lastWriteMs: number;
  /** Writes for one event run one after another. */
  tail: Promise<unknown>;
}

interface EventBody {
  apiVersion: "events.k8s.io/v1";
  kind: "Event";
  metadata: { name: string; namespace: string };
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  type: EventType;
  note: string;
  regarding: ObjectRef;
  related?: ObjectRef;
  series?: { count: number; lastObservedTime: string };
}

const MAX_NAME = 253;
const SUFFIX_CHARS = 17; // "." + 16 hex

export class EventRecorder {
  readonly counters: EventCounters = { created: 0, seriesUpdated: 0, aggregated: 0, failed: 0 };
  private readonly client: Pick<KubeClient, "create" | "patch">;
  private readonly instance: string;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly minWriteMs: number;
  private readonly maxTracked: number;
  private readonly timeoutMs: number;
  private readonly tracked = new Map<string, Tracked>();

  constructor(options: EventRecorderOptions) {
    const instance = options.reportingInstance;
    if (instance === "" || Buffer.byteLength(instance) > EVENT_LIMITS.reportingInstance) {
      throw new RangeError(`reportingInstance must be 1–128 bytes, got ${JSON.stringify(instance)}`);
    }
    this.client = options.client;
    this.instance = instance;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.windowMs = options.seriesWindowMs ?? 30 * 60_000;
    this.minWriteMs = options.minWriteIntervalMs ?? 5 * 60_000;
    this.maxTracked = options.maxTracked ?? 4096;
    this.timeoutMs = options.requestTimeoutMs ?? 5_000;
  }

  /** Records one occurrence. Never rejects: failures come back as `{ result: "failed" }`. */
  async record(input: EventInput): Promise<EventOutcome> {
    const now = this.now();
    const key = eventKey(input);
    const known = this.tracked.get(key);
    if (known === undefined || now - known.lastObservedMs > this.windowMs) {
      const fresh = this.track(key, input, now);
      return this.enqueue(fresh);
    }
    known.count++;
    known.lastObservedMs = now;
    if (now - known.lastWriteMs < this.minWriteMs) {
      this.counters.aggregated++;
      return { result: "aggregated", name: known.name, count: known.count };
    }
    known.lastWriteMs = now;
    return this.enqueue(known);
  }

  /**
   * Writes counts held back by the rate limit (all of them with `force`, e.g. at shutdown;
   * otherwise those whose interval has passed) and forgets events whose window has closed.
   */
  async flush(options: { force?: boolean } = {}): Promise<EventOutcome[]> {
    const now = this.now();
    const writes: Promise<EventOutcome>[] = [];
    for (const entry of this.tracked.values()) {
      const pending = entry.count > entry.writtenCount;
      const closed = now - entry.lastObservedMs > this.windowMs;
      if (pending && (options.force === true || closed || now - entry.lastWriteMs >= this.minWriteMs)) {
        entry.lastWriteMs = now;
        writes.push(this.enqueue(entry));
      }
      if (closed) this.tracked.delete(entry.key);
    }
    return Promise.all(writes);
  }

  /** How many distinct events are remembered (bounded by maxTracked). */
  get size(): number {
    return this.tracked.size;
  }

  private track(key: string, input: EventInput, now: number): Tracked {
    this.tracked.delete(key);
    while (this.tracked.size >= this.maxTracked) {
      const oldest = this.tracked.keys().next().value;
      if (oldest === undefined) break;
      this.tracked.delete(oldest);
    }
    const entry: Tracked = {
      key,
      input,
      name: eventName(input.regarding.name),
      created: false,
      firstMs: now,
      count: 1,
      writtenCount: 0,
      lastObservedMs: now,
      lastWriteMs: now,
      tail: Promise.resolve(),
    };
    this.tracked.set(key, entry);
    return entry;
  }

  private enqueue(entry: Tracked): Promise<EventOutcome> {
    const run = entry.tail.then(() => this.write(entry));
    entry.tail = run;
    return run;
  }

  private async write(entry: Tracked): Promise<EventOutcome> {
    const count = entry.count;
    if (entry.created && count === entry.writtenCount) {
      return { result: "series-updated", name: entry.name, count };
    }
    try {
      if (entry.created) {
        try {
          await this.patchSeries(entry, count);
          entry.writtenCount = Math.max(entry.writtenCount, count);
          this.counters.seriesUpdated++;
          return { result: "series-updated", name: entry.name, count };
        } catch (err) {
          if (!isNotFound(err)) throw err;
          // The Event expired (TTL) or was deleted: start a new one that carries the count.
          entry.name = eventName(entry.input.regarding.name);
          entry.firstMs = this.now();
        }
      }
      await this.create(entry, count);
      entry.created = true;
      entry.writtenCount = Math.max(entry.writtenCount, count);
      this.counters.created++;
      return { result: "created", name: entry.name, count };
    } catch (err) {
      this.counters.failed++;
      if (!entry.created && this.tracked.get(entry.key) === entry) this.tracked.delete(entry.key);
      const error = err instanceof Error ? err : new Error(String(err));
      this.logger.warn(
        { err: error, reason: entry.input.reason, regarding: refText(entry.input.regarding) },
        "event not recorded",
      );
      return { result: "failed", name: entry.name, error };
    }
  }

  private async create(entry: Tracked, count: number): Promise<void> {
    const body = buildEvent(entry.input, {
      name: entry.name,
      reportingInstance: this.instance,
      eventTimeMs: entry.firstMs,
      ...(count >= 2 ? { series: { count, lastObservedMs: entry.lastObservedMs } } : {}),
    });
    await this.client.create(eventsPath(body.metadata.namespace), body, { timeoutMs: this.timeoutMs });
  }

  private async patchSeries(entry: Tracked, count: number): Promise<void> {
    const patch = { series: { count, lastObservedTime: formatMicroTime(entry.lastObservedMs) } };
    await this.client.patch(`${eventsPath(entry.input.regarding.namespace)}/${entry.name}`, patch, "merge", {
      timeoutMs: this.timeoutMs,
    });
  }
}

/** The Event object for one input, with every field the API requires and its limits applied. */
export function buildEvent(
  input: EventInput,
  at: {
    name: string;
    reportingInstance: string;
    eventTimeMs: number;
    series?: { count: number; lastObservedMs: number };
  },
): EventBody {
  const body: EventBody = {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: { name: at.name, namespace: input.regarding.namespace },
    eventTime: formatMicroTime(at.eventTimeMs),
    reportingController: CONTROLLER_NAME,
    reportingInstance: at.reportingInstance,
    action: clip(input.action, EVENT_LIMITS.action),
    reason: clip(input.reason, EVENT_LIMITS.reason),
    type: input.type,
    note: truncateUtf8(input.note, EVENT_LIMITS.note),
    regarding: objectRef(input.regarding),
  };
  if (input.related !== undefined) body.related = objectRef(input.related);
  if (at.series !== undefined) {
    body.series = { count: at.series.count, lastObservedTime: formatMicroTime(at.series.lastObservedMs) };
  }
  return body;
}

/** `<regarding>.<16 random hex>`, as client-go names events, kept within a DNS subdomain. */
export function eventName(regardingName: string): string {
  const base = regardingName.slice(0, MAX_NAME - SUFFIX_CHARS).replace(/[^a-z0-9]+$/, "");
  return `${base === "" ? "event" : base}.${randomBytes(8).toString("hex")}`;
}

function eventKey(input: EventInput): string {
  const r = input.regarding;
  const rel = input.related;
  return shortHash(
    JSON.stringify([
      [r.apiVersion, r.kind, r.namespace, r.name, r.uid ?? ""],
      rel === undefined ? null : [rel.apiVersion, rel.kind, rel.namespace, rel.name, rel.uid ?? ""],
      input.type,
      input.reason,
      input.action,
      input.seriesKey ?? input.note,
    ]),
    32,
  );
}

/** Reason and action are identifiers: cut plainly (no "…"), still never mid-character. */
function clip(text: string, maxBytes: number): string {
  return truncateUtf8(text, maxBytes, "");
}

function objectRef(ref: ObjectRef): ObjectRef {
  const { apiVersion, kind, namespace, name, uid } = ref;
  return uid === undefined
    ? { apiVersion, kind, namespace, name }
    : { apiVersion, kind, namespace, name, uid };
}

function eventsPath(namespace: string): string {
  return `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`;
}

function refText(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}
