// What grew: new − base over two summaries, ranked by growth, with a one-line headline.
import type { Frame } from "./frames.ts";
import { shortFile } from "./frames.ts";
import type { GoroutineGroup, GoroutineSummary } from "./goroutines.ts";
import { goroutineGroups } from "./goroutines.ts";
import type { HeapSummary } from "./heap.ts";
import { compareStrings, inuseBytes } from "./heap.ts";
import { formatRelative, formatSignedBytes, formatSignedCount } from "./format.ts";
import { KeyIndex } from "./key-index.ts";
import { Arena } from "./proto.ts";
import type { Granularity } from "./top.ts";

export const DEFAULT_DIFF_ROWS = 10;

export interface DiffOptions {
  /** Rank sites by function + line (default) or by function. */
  readonly by?: Granularity;
  /** How many rows to keep (default 10). */
  readonly top?: number;
}

export interface HeapDiffRow {
  readonly function: string;
  /** "" and 0 when diffing by function. */
  readonly file: string;
  readonly line: number;
  readonly baseBytes: number;
  readonly newBytes: number;
  readonly deltaBytes: number;
  /** deltaBytes / baseBytes; null when the site is not in the base summary. */
  readonly relative: number | null;
  readonly baseObjects: number;
  readonly newObjects: number;
  readonly deltaObjects: number;
  readonly inBase: boolean;
}

export interface Delta {
  readonly base: number;
  readonly new: number;
  readonly delta: number;
  /** delta / base, null when base is 0. */
  readonly relative: number | null;
}

export interface HeapDiff {
  readonly kind: "heap-diff";
  readonly by: Granularity;
  /** In-use bytes of the whole profile. */
  readonly inuseBytes: Delta;
  /** Growing sites, largest growth first (at most `top`). */
  readonly rows: readonly HeapDiffRow[];
  /** A base summary that dropped sites (its `other`) makes "not in base" approximate. */
  readonly baseTruncated: boolean;
  readonly headline: string;
}

function delta(base: number, next: number): Delta {
  return { base, new: next, delta: next - base, relative: base === 0 ? null : (next - base) / base };
}

/**
 * A summary's sites by key — (function, file, line), or the function alone when rolled up — with
 * the first site of each key and the sums of all its sites.
 */
class SiteIndex {
  private readonly keys: KeyIndex;
  readonly site: Int32Array;
  readonly bytes: Float64Array;
  readonly objects: Float64Array;

  constructor(capacity: number) {
    // One allocation for the key index and these columns.
    const arena = new Arena(capacity * 2 + KeyIndex.doubles(capacity), capacity + KeyIndex.words(capacity));
    this.keys = new KeyIndex(capacity, arena);
    this.bytes = arena.f64(capacity);
    this.objects = arena.f64(capacity);
    this.site = arena.i32(capacity);
  }

  get size(): number {
    return this.keys.size;
  }

  /** The entry of a key, or -1. */
  find(fn: number, file: number, line: number): number {
    return this.keys.find(fn, file, line);
  }

  /** Adds a site's values to its key's entry (made for this site when the key is new). */
  add(fn: number, file: number, line: number, site: number, bytes: number, objects: number): void {
    const known = this.keys.size;
    const entry = this.keys.add(fn, file, line);
    if (entry === known) this.site[entry] = site;
    this.bytes[entry] = (this.bytes[entry] ?? 0) + bytes;
    this.objects[entry] = (this.objects[entry] ?? 0) + objects;
  }
}

/** Indexes a summary's sites by string ids (shared by both summaries), not by string keys. */
function indexSites(s: HeapSummary, by: Granularity, ids: readonly number[]): SiteIndex {
  const { function: fn, file, line, bytes, objects } = s.sites;
  const index = new SiteIndex(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const fnId = ids[fn[i] ?? -1] ?? 0;
    if (by === "function") index.add(fnId, 0, 0, i, bytes[i] ?? 0, objects[i] ?? 0);
    else index.add(fnId, ids[file[i] ?? -1] ?? 0, line[i] ?? 0, i, bytes[i] ?? 0, objects[i] ?? 0);
  }
  return index;
}

/**
 * Ids for the strings of both summaries, equal for equal strings: the first position of the string
 * in `next`, or -1 for a string of `base` that `next` lacks (its sites match none). One Map, of
 * `next`'s strings only: the base's are looked up, never added.
 */
function sharedIds(base: HeapSummary, next: HeapSummary): { base: number[]; next: number[] } {
  const strings = next.strings;
  const first = new Map<string, number>();
  for (let i = strings.length - 1; i >= 0; i--) first.set(strings[i] ?? "", i); // the first one wins
  const unique = first.size === strings.length; // as summarizeHeap makes them
  return {
    base: base.strings.map((x) => first.get(x) ?? -1),
    next: strings.map((x, i) => (unique ? i : (first.get(x) ?? -1))),
  };
}

interface Sums {
  readonly site: number;
  readonly bytes: number;
  readonly objects: number;
}

interface Growth {
  readonly now: Sums;
  readonly was: Sums | undefined;
  readonly delta: number;
}

/** Sites of `next` that grew since `base`, by in-use bytes. */
export function diffHeap(base: HeapSummary, next: HeapSummary, options: DiffOptions = {}): HeapDiff {
  const by = options.by ?? "line";
  const limit = options.top ?? DEFAULT_DIFF_ROWS;
  const ids = sharedIds(base, next);
  const before = indexSites(base, by, ids.base);
  const str = (i: number | undefined): string => next.strings[i ?? -1] ?? "";
  const fnName = (g: Growth): string => str(next.sites.function[g.now.site]);
  const fileName = (g: Growth): string => (by === "function" ? "" : str(next.sites.file[g.now.site]));
  const lineOf = (g: Growth): number => (by === "function" ? 0 : (next.sites.line[g.now.site] ?? 0));
  const order = (a: Growth, b: Growth): number =>
    b.delta - a.delta ||
    compareStrings(fnName(a), fnName(b)) ||
    compareStrings(fileName(a), fileName(b)) ||
    lineOf(a) - lineOf(b);
  // The top `limit` by growth, kept sorted as we go: no sort of every site.
  const top: Growth[] = [];
  const all = limit > 64; // for long lists a final sort beats insertion
  const visit = (
    fn: number,
    file: number,
    line: number,
    site: number,
    bytes: number,
    objects: number,
  ): void => {
    const at = before.find(fn, file, line);
    const d = bytes - (at < 0 ? 0 : (before.bytes[at] ?? 0));
    if (d <= 0) return;
    const last = top[top.length - 1];
    // Most sites fall short of the last of a full list on growth alone: no objects made for them.
    if (!all && top.length >= limit && last !== undefined && d < last.delta) return;
    const was: Sums | undefined =
      at < 0
        ? undefined
        : { site: before.site[at] ?? 0, bytes: before.bytes[at] ?? 0, objects: before.objects[at] ?? 0 };
    const g = { now: { site, bytes, objects }, was, delta: d };
    if (all) {
      top.push(g);
      return;
    }
    if (top.length >= limit && last !== undefined && order(g, last) >= 0) return;
    let i = top.length;
    while (i > 0 && order(g, top[i - 1] ?? g) < 0) i--;
    top.splice(i, 0, g);
    if (top.length > limit) top.pop();
  };
  if (by === "line") {
    // Sites are unique by function, file and line: no need to index the new summary.
    const { function: fn, file, line, bytes, objects } = next.sites;
    for (let i = 0; i < bytes.length; i++) {
      visit(
        ids.next[fn[i] ?? -1] ?? 0,
        ids.next[file[i] ?? -1] ?? 0,
        line[i] ?? 0,
        i,
        bytes[i] ?? 0,
        objects[i] ?? 0,
      );
    }
  } else {
    const after = indexSites(next, by, ids.next);
    for (let e = 0; e < after.size; e++) {
      const site = after.site[e] ?? 0;
      const fnId = ids.next[next.sites.function[site] ?? -1] ?? 0;
      visit(fnId, 0, 0, site, after.bytes[e] ?? 0, after.objects[e] ?? 0);
    }
  }
  if (all) {
    top.sort(order);
    top.length = Math.min(top.length, limit);
  }
  const rows = top.map((g): HeapDiffRow => {
    const baseBytes = g.was?.bytes ?? 0;
    return {
      function: fnName(g),
      file: fileName(g),
      line: lineOf(g),
      baseBytes,
      newBytes: g.now.bytes,
      deltaBytes: g.delta,
      relative: g.was === undefined || baseBytes === 0 ? null : g.delta / baseBytes,
      baseObjects: g.was?.objects ?? 0,
      newObjects: g.now.objects,
      deltaObjects: g.now.objects - (g.was?.objects ?? 0),
      inBase: g.was !== undefined,
    };
  });
  const total = delta(inuseBytes(base), inuseBytes(next));
  return {
    kind: "heap-diff",
    by,
    inuseBytes: total,
    rows,
    baseTruncated: base.other.sites > 0,
    headline: heapHeadline(rows[0], total),
  };
}

/** `main.(*cache).put (cache.go:42) +38.2 MiB in-use (+61%)`. */
function heapHeadline(top: HeapDiffRow | undefined, total: Delta): string {
  if (top === undefined) return `no allocation site grew (in-use ${formatSignedBytes(total.delta)} in total)`;
  const rel = top.relative === null ? "not in base" : formatRelative(top.relative);
  return `${siteName(top)} ${formatSignedBytes(top.deltaBytes)} in-use (${rel})`;
}

/** "fn (file.go:42)", or "fn" when there is no file (by function, unsymbolized). */
export function siteName(s: Pick<Frame, "function" | "file" | "line">): string {
  return s.file === "" ? s.function : `${s.function} (${shortFile(s.file)}:${s.line})`;
}

export interface GoroutineDiffRow extends Omit<GoroutineGroup, "count"> {
  readonly baseCount: number;
  readonly newCount: number;
  readonly delta: number;
  readonly relative: number | null;
}

export interface GoroutineDiff {
  readonly kind: "goroutine-diff";
  readonly total: Delta;
  readonly rows: readonly GoroutineDiffRow[];
  readonly headline: string;
}

/** Blocking sites whose goroutine count grew. */
export function diffGoroutines(
  base: GoroutineSummary,
  next: GoroutineSummary,
  options: Pick<DiffOptions, "top"> = {},
): GoroutineDiff {
  const key = (g: GoroutineGroup): string => `${g.function}\u0000${g.file}\u0000${g.line}\u0000${g.state}`;
  const before = new Map(goroutineGroups(base).map((g) => [key(g), g.count]));
  const rows: GoroutineDiffRow[] = [];
  for (const g of goroutineGroups(next)) {
    const was = before.get(key(g));
    const d = g.count - (was ?? 0);
    if (d <= 0) continue;
    const { count, ...site } = g;
    rows.push({
      ...site,
      baseCount: was ?? 0,
      newCount: count,
      delta: d,
      relative: was === undefined ? null : d / was,
    });
  }
  rows.sort((a, b) => b.delta - a.delta || compareStrings(a.function, b.function) || a.line - b.line);
  rows.length = Math.min(rows.length, options.top ?? DEFAULT_DIFF_ROWS);
  const total = delta(base.total, next.total);
  const top = rows[0];
  const headline =
    top === undefined
      ? `no blocking site gained goroutines (${formatSignedCount(total.delta)} in total)`
      : goroutineHeadline(top);
  return { kind: "goroutine-diff", total, rows, headline };
}

/** `main.worker (leak.go:31) +400 goroutines in chan receive (+3333%)`. */
function goroutineHeadline(top: GoroutineDiffRow): string {
  const rel = top.relative === null ? "not in base" : formatRelative(top.relative);
  const count = `${formatSignedCount(top.delta)} goroutines`;
  if (top.state === "no stack") return `${count} with no stack (${rel})`;
  const state = top.state === "running" || top.state === "parked" ? top.state : `in ${top.state}`;
  return `${siteName(top)} ${count} ${state} (${rel})`;
}
