// Persists each target's detector state for one LeakWatch, so an operator restart or a new leader
// continues the analysis window instead of starting blind.
//
// Layout: an index ConfigMap `lw-<leakwatch>-state` names the shard count N (a power of two), and
// shards `lw-<leakwatch>-state-<N>-<i>` hold gzipped JSON `{ key: state }` for the keys whose
// stable hash falls in shard i. All are owned by the LeakWatch. Re-sharding writes the new shards,
// then the index (the commit point), then deletes the old shards, so a crash at any step leaves
// one complete layout; leftovers are deleted by the next save. A save writes only shards whose
// content changed, each with its resourceVersion, and a write lost to another writer is a
// StateConflictError (load again before saving again).
//
// Cost per target, for the controller's budget (measured with src/detect's own state): 1.6 KiB of
// JSON after 1 h, 3.4 KiB after 12 h, 7.5 KiB once two daily cycles are held; gzip stores about a
// third (0.7 / 1.2 / 2.6 KiB). So 5,000 targets at 3 KiB ≈ 15 MiB raw → 16 shards, ~5 MiB
// written per full save; at 7.5 KiB ≈ 37 MiB raw → 64 shards, ~13 MiB. That costs roughly
// 30 ms of gzip per MiB (on the libuv pool) and at most N + 1 writes per save, however many
// scrapes happened in between. Save every few intervals, not per scrape: etcd keeps each
// revision until the API server compacts it (every 5 min by default).
import { gunzip, gzip } from "node:zlib";
import { promisify } from "node:util";
import type { KubeClient } from "./client.ts";
import { eachLimited } from "./concurrency.ts";
import { configMapPath, configMapsPath, listConfigMapMetadata, type ConfigMap } from "./configmaps.ts";
import { KubeError, isConflict, isNotFound } from "./errors.ts";
import { silentLogger, type Logger } from "./logger.ts";
import {
  LABELS,
  MANAGED_BY,
  labelValue,
  ownerReference,
  shortHash,
  type LeakWatchOwner,
} from "./ownership.ts";
import {
  MAX_SHARDS,
  SHARD_MAX_BYTES,
  chooseShardCount,
  decodeShard,
  encodeShard,
  groupByShard,
  rawSize,
  sha256,
} from "./state-shards.ts";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The calls the store makes (a KubeClient, or a wrapper in tests). */
export type StateClient = Pick<KubeClient, "get" | "create" | "replace" | "delete">;

const PAYLOAD_KEY = "state.json.gz";
const SHARDS_KEY = "shards";
const COMPONENT = "state";
const CONCURRENCY = 4;
/** A shard never inflates past this when read back (bounded input, even from a tampered object). */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/** Another writer changed a state object since this store read it. Load again, then save. */
export class StateConflictError extends KubeError {
  override readonly name = "StateConflictError";
  override readonly code = "LW_STATE_CONFLICT";
  readonly object: string;
  constructor(object: string, options?: ErrorOptions) {
    super(`state object ${object} was changed by another writer; load before saving again`, true, options);
    this.object = object;
  }
}

/** Even MAX_SHARDS shards cannot hold the state (a runaway serializer, not a real fleet). */
export class StateTooLargeError extends KubeError {
  override readonly name = "StateTooLargeError";
  override readonly code = "LW_STATE_TOO_LARGE";
  constructor(message: string) {
    super(message, false);
  }
}

export interface LoadedState {
  entries: Map<string, string>;
  shards: number;
  /** Shards that were missing or unreadable (their targets start afresh), with the reason. */
  damaged: { name: string; reason: string }[];
}

export interface SaveResult {
  shards: number;
  written: number;
  unchanged: number;
  deleted: number;
  /** Compressed bytes sent in this save. */
  bytesWritten: number;
}

interface KnownShard {
  resourceVersion: string;
  /** Of the raw payload last read or written; undefined when only the metadata is known. */
  hash: string | undefined;
  /** Save round that last wrote it (0: read, never written by us): the stalest go first. */
  writtenRound: number;
}

export interface SaveOptions {
  /**
   * Write at most this many shards in one save (the stalest first), so the write rate stays the
   * same however many targets there are. A re-shard writes every shard regardless.
   */
  maxShardWrites?: number;
}

interface BuiltShard {
  name: string;
  hash: string;
  gz: Buffer | undefined;
}

export class StateStore {
  private readonly client: StateClient;
  private readonly owner: LeakWatchOwner;
  private readonly logger: Logger;
  private readonly base: string;
  /** The committed shard count (0: nothing saved yet). */
  private shards = 0;
  private indexVersion: string | undefined;
  /** False when the index belongs to an earlier LeakWatch of the same name: rewrite it. */
  private indexOwned = false;
  private readonly known = new Map<string, KnownShard>();
  private synced = false;
  private round = 0;

  constructor(options: { client: StateClient; owner: LeakWatchOwner; logger?: Logger }) {
    this.client = options.client;
    this.owner = options.owner;
    this.logger = options.logger ?? silentLogger;
    this.base = stateObjectBase(options.owner.name);
  }

  async load(): Promise<LoadedState> {
    await this.discover();
    const entries = new Map<string, string>();
    const damaged: LoadedState["damaged"] = [];
    await eachLimited(
      Array.from({ length: this.shards }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        const name = this.shardName(this.shards, i);
        const read = await this.readShard(name, i);
        if (typeof read === "string") {
          damaged.push({ name, reason: read });
          return;
        }
        for (const [key, state] of read) if (!entries.has(key)) entries.set(key, state);
      },
    );
    if (damaged.length > 0) {
      this.logger.warn({ leakWatch: this.owner.name, damaged }, "some detector state could not be restored");
    }
    return { entries, shards: this.shards, damaged };
  }

  async save(entries: ReadonlyMap<string, string>, options: SaveOptions = {}): Promise<SaveResult> {
    if (!this.synced) await this.discover();
    this.round++;
    let shards = chooseShardCount(rawSize(entries), this.shards);
    const steady = shards === this.shards && this.indexOwned;
    let built = await this.build(
      entries,
      shards,
      steady ? this.stalest(shards, options.maxShardWrites) : undefined,
    );
    while (built === undefined) {
      if (shards >= MAX_SHARDS) {
        throw new StateTooLargeError(
          `detector state of ${entries.size} targets does not fit ${MAX_SHARDS} shards`,
        );
      }
      shards *= 2;
      built = await this.build(entries, shards, undefined);
    }
    const changed = built.filter((s): s is BuiltShard & { gz: Buffer } => s.gz !== undefined);
    await eachLimited(changed, CONCURRENCY, (shard) => this.writeShard(shards, shard));
    if (shards !== this.shards || !this.indexOwned) await this.writeIndex(shards);
    const deleted = await this.deleteStale();
    return {
      shards,
      written: changed.length,
      unchanged: built.length - changed.length,
      deleted,
      bytesWritten: changed.reduce((sum, s) => sum + s.gz.length, 0),
    };
  }

  /** The shard indexes written longest ago, at most `limit` of them (all when no limit). */
  private stalest(shards: number, limit: number | undefined): Set<number> | undefined {
    if (limit === undefined || limit >= shards) return undefined;
    const order = Array.from({ length: shards }, (_, i) => i).sort(
      (a, b) =>
        (this.known.get(this.shardName(shards, a))?.writtenRound ?? 0) -
          (this.known.get(this.shardName(shards, b))?.writtenRound ?? 0) || a - b,
    );
    return new Set(order.slice(0, Math.max(1, limit)));
  }

  /** Reads the index and the names and versions of every state object, not their data. */
  private async discover(): Promise<void> {
    this.known.clear();
    try {
      const index = await this.client.get<ConfigMap>(configMapPath(this.owner.namespace, this.base));
      const shards = Number(index.data?.[SHARDS_KEY]);
      this.shards = Number.isInteger(shards) && shards >= 1 && shards <= MAX_SHARDS ? shards : 0;
      this.indexVersion = index.metadata.resourceVersion;
      this.indexOwned = this.ownedByUs(index);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.shards = 0;
      this.indexVersion = undefined;
      this.indexOwned = false;
    }
    const objects = await listConfigMapMetadata(
      this.client,
      this.owner.namespace,
      `${LABELS.component}=${COMPONENT},${LABELS.leakWatch}=${labelValue(this.owner.name)},${LABELS.stateShards}`,
    );
    for (const { metadata } of objects) {
      if (!metadata.name.startsWith(`${this.base}-`) || metadata.resourceVersion === undefined) continue;
      this.known.set(metadata.name, {
        resourceVersion: metadata.resourceVersion,
        hash: undefined,
        writtenRound: 0,
      });
    }
    this.synced = true;
  }

  private async readShard(name: string, index: number): Promise<Map<string, string> | string> {
    let cm: ConfigMap;
    try {
      cm = await this.client.get<ConfigMap>(configMapPath(this.owner.namespace, name));
    } catch (err) {
      if (isNotFound(err)) return "missing";
      throw err;
    }
    const payload = cm.binaryData?.[PAYLOAD_KEY];
    if (payload === undefined) return `no ${PAYLOAD_KEY}`;
    let text: string;
    try {
      text = (
        await gunzipAsync(Buffer.from(payload, "base64"), { maxOutputLength: MAX_INFLATED_BYTES })
      ).toString("utf8");
    } catch (err) {
      return `cannot gunzip: ${(err as Error).message}`;
    }
    const decoded = decodeShard(text, this.shards, index);
    if (typeof decoded === "string") return decoded;
    if (cm.metadata.resourceVersion !== undefined) {
      // A shard owned by an earlier LeakWatch of this name is rewritten (re-owned) on the next save.
      const hash = this.ownedByUs(cm) ? sha256(text) : undefined;
      this.known.set(name, { resourceVersion: cm.metadata.resourceVersion, hash, writtenRound: 0 });
    }
    return decoded;
  }

  /** Every shard's payload; gzipped only when it changed. Undefined when one is too large. */
  /** Encodes the shards (only `only`, when given); undefined when one is too large for an object. */
  private async build(
    entries: ReadonlyMap<string, string>,
    shards: number,
    only: Set<number> | undefined,
  ): Promise<BuiltShard[] | undefined> {
    const groups = groupByShard(entries, shards);
    const built: BuiltShard[] = [];
    await eachLimited(
      groups.map((group, i) => ({ group, i })).filter(({ i }) => only === undefined || only.has(i)),
      CONCURRENCY,
      async ({ group, i }) => {
        const name = this.shardName(shards, i);
        const text = encodeShard(group, shards, i);
        const hash = sha256(text);
        if (this.known.get(name)?.hash === hash) {
          built.push({ name, hash, gz: undefined });
          return;
        }
        const gz = await gzipAsync(Buffer.from(text, "utf8"));
        built.push({ name, hash, gz });
      },
    );
    return built.some((s) => s.gz !== undefined && s.gz.length > SHARD_MAX_BYTES) ? undefined : built;
  }

  private async writeShard(shards: number, shard: BuiltShard & { gz: Buffer }): Promise<void> {
    const known = this.known.get(shard.name);
    const body = this.object(
      shard.name,
      { binaryData: { [PAYLOAD_KEY]: shard.gz.toString("base64") } },
      shards,
    );
    const written = await this.write(shard.name, body, known?.resourceVersion);
    this.known.set(shard.name, { resourceVersion: written, hash: shard.hash, writtenRound: this.round });
  }

  private async writeIndex(shards: number): Promise<void> {
    const body = this.object(this.base, { data: { [SHARDS_KEY]: String(shards) } }, undefined);
    this.indexVersion = await this.write(this.base, body, this.indexVersion);
    this.indexOwned = true;
    this.shards = shards;
  }

  /** Creates, or replaces at `resourceVersion`; returns the new resourceVersion. */
  private async write(name: string, body: ConfigMap, resourceVersion: string | undefined): Promise<string> {
    const namespace = this.owner.namespace;
    try {
      const result =
        resourceVersion === undefined
          ? await this.client.create<ConfigMap>(configMapsPath(namespace), body)
          : await this.client.replace<ConfigMap>(configMapPath(namespace, name), {
              ...body,
              metadata: { ...body.metadata, resourceVersion },
            });
      return result.metadata.resourceVersion ?? "";
    } catch (err) {
      // 409 on create (AlreadyExists) or replace (Conflict), 404 on replace: someone else was here.
      if (isConflict(err) || (resourceVersion !== undefined && isNotFound(err))) {
        this.synced = false;
        throw new StateConflictError(name, { cause: err });
      }
      throw err;
    }
  }

  /** Deletes shards of other layouts (an earlier shard count, or a re-shard that crashed). */
  private async deleteStale(): Promise<number> {
    const prefix = `${this.base}-${this.shards}-`;
    let deleted = 0;
    for (const [name, known] of [...this.known]) {
      if (name.startsWith(prefix) && Number(name.slice(prefix.length)) < this.shards) continue;
      try {
        await this.client.delete(configMapPath(this.owner.namespace, name), {
          preconditions: { resourceVersion: known.resourceVersion },
        });
        deleted++;
      } catch (err) {
        if (!isNotFound(err)) this.logger.warn({ err, object: name }, "stale state shard not deleted");
      }
      this.known.delete(name);
    }
    return deleted;
  }

  private ownedByUs(cm: ConfigMap): boolean {
    return cm.metadata.ownerReferences?.some((ref) => ref.uid === this.owner.uid) ?? false;
  }

  private shardName(shards: number, index: number): string {
    return `${this.base}-${shards}-${index}`;
  }

  private object(
    name: string,
    payload: Pick<ConfigMap, "data" | "binaryData">,
    shards: number | undefined,
  ): ConfigMap {
    return {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name,
        namespace: this.owner.namespace,
        labels: {
          [LABELS.managedBy]: MANAGED_BY,
          [LABELS.component]: COMPONENT,
          [LABELS.leakWatch]: labelValue(this.owner.name),
          ...(shards === undefined ? {} : { [LABELS.stateShards]: String(shards) }),
        },
        ownerReferences: [ownerReference(this.owner)],
      },
      ...payload,
    };
  }
}

/** `lw-<leakwatch>-state`, shortened with a hash when the LeakWatch's name is very long. */
export function stateObjectBase(leakWatchName: string): string {
  return leakWatchName.length <= 200
    ? `lw-${leakWatchName}-state`
    : `lw-${leakWatchName.slice(0, 180).replace(/[.-]+$/, "")}-${shortHash(leakWatchName, 10)}-state`;
}
