// JSON value comparison and RFC 7386 merge patches, for writing only what changed.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Structural equality of JSON data; a key holding `undefined` counts as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]))
    );
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
  const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
  return keysA.length === keysB.length && keysA.every((k) => k in b && jsonEqual(a[k], b[k]));
}

/**
 * The merge patch that turns `from` into `to`: changed keys, `null` for removed ones. Arrays
 * are replaced whole (merge-patch semantics), so `to` must hold no nulls of its own.
 */
export function createMergePatch(from: unknown, to: unknown): Json {
  if (!isPlainObject(from) || !isPlainObject(to)) return (to ?? null) as Json;
  const patch: Record<string, Json> = {};
  for (const key of Object.keys(from)) {
    if (from[key] !== undefined && to[key] === undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined || jsonEqual(from[key], value)) continue;
    patch[key] = createMergePatch(from[key], value);
  }
  return patch;
}
