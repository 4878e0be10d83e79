// The informer's cache bookkeeping as pure functions: which change a watch event or a relist makes
// to the cache. The informer applies the changes and notifies; tests need no server.

/** An object as the API server sends it, before trimming. */
export interface RawObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly [field: string]: unknown;
  };
  readonly [field: string]: unknown;
}

/** A trimmed object and the resourceVersion it was read at (relists compare these). */
export interface CacheEntry<S> {
  readonly object: S;
  readonly resourceVersion: string;
}

export type Cache<S> = ReadonlyMap<string, CacheEntry<S>>;

export type Change<S> =
  | { readonly type: "add"; readonly key: string; readonly entry: CacheEntry<S> }
  | {
      readonly type: "update";
      readonly key: string;
      readonly entry: CacheEntry<S>;
      readonly old: CacheEntry<S>;
      /** The trimmed object did not change (only fields we drop did): cache it, notify no one. */
      readonly quiet: boolean;
    }
  | { readonly type: "delete"; readonly key: string; readonly old: CacheEntry<S> };

/** Tells whether two trimmed objects are the same for the controller. */
export type SameObject<S> = (a: S, b: S) => boolean;

/** `namespace/name`, or `name` for cluster-scoped objects; undefined when the object has no name. */
export function objectKey(raw: RawObject): string | undefined {
  const name = raw.metadata?.name;
  if (name === undefined || name === "") return undefined;
  const namespace = raw.metadata?.namespace;
  return namespace === undefined || namespace === "" ? name : `${namespace}/${name}`;
}

/**
 * The change an object's new state makes (from an ADDED or MODIFIED event, or a list: a resumed
 * watch may replay either). A state at the resourceVersion we hold changes nothing.
 */
export function changeForUpsert<S>(
  cache: Cache<S>,
  key: string,
  entry: CacheEntry<S>,
  same?: SameObject<S>,
): Change<S> | undefined {
  const old = cache.get(key);
  if (old === undefined) return { type: "add", key, entry };
  if (old.resourceVersion === entry.resourceVersion) return undefined;
  return { type: "update", key, entry, old, quiet: same?.(old.object, entry.object) ?? false };
}

/** The change a DELETED event makes; an object we never saw needs no notification. */
export function changeForDelete<S>(cache: Cache<S>, key: string): Change<S> | undefined {
  const old = cache.get(key);
  return old === undefined ? undefined : { type: "delete", key, old };
}

/**
 * The changes that turn `cache` into `listed`: adds and updates in list order, then a delete for
 * every cached object the list no longer has (deleted while we were not watching).
 */
export function diffRelist<S>(cache: Cache<S>, listed: Cache<S>, same?: SameObject<S>): Change<S>[] {
  const changes: Change<S>[] = [];
  for (const [key, entry] of listed) {
    const change = changeForUpsert(cache, key, entry, same);
    if (change !== undefined) changes.push(change);
  }
  for (const [key, old] of cache) if (!listed.has(key)) changes.push({ type: "delete", key, old });
  return changes;
}

export function applyChange<S>(cache: Map<string, CacheEntry<S>>, change: Change<S>): void {
  if (change.type === "delete") cache.delete(change.key);
  else cache.set(change.key, change.entry);
}
