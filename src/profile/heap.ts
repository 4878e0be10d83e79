// The compact heap summary: what the controller keeps per pod as the diff baseline.
// In-use bytes and objects per allocation site (leaf function + file:line), the biggest
// `maxSites` of them, the rest folded into `other`; strings interned once.
import { MissingSampleTypeError } from "./errors.ts";
import { Arena } from "./proto.ts";
import { SiteTable } from "./sites.ts";
import type { Profile } from "./profile.ts";
export { compareStrings } from "./sites.ts";

/** Sample type names holding in-use bytes / objects: Go's, then @datadog/pprof's (Node). */
export const INUSE_SPACE_TYPES = ["inuse_space", "space"] as const;
export const INUSE_OBJECTS_TYPES = ["inuse_objects", "objects"] as const;

export const DEFAULT_MAX_SITES = 200;

/** Columns of the kept sites, sorted by in-use bytes, largest first. */
export interface HeapSiteColumns {
  /** Positions in HeapSummary.strings. (function, file, line) is unique among the sites. */
  readonly function: readonly number[];
  readonly file: readonly number[];
  readonly line: readonly number[];
  readonly bytes: readonly number[];
  readonly objects: readonly number[];
}

/**
 * JSON-safe as is (JSON.stringify / parseHeapSummary). Size: 7.3 KiB of JSON for 200 sites of
 * the benchmark's Go profiles; 15–30 KiB when names and paths are long import paths.
 */
export interface HeapSummary {
  readonly kind: "heap";
  readonly version: 1;
  /** When the profile was taken (Unix nanoseconds; 0 if the profile does not say). */
  readonly timeNanos: number;
  /** False when some allocation sites are bare addresses (the profile has no symbols). */
  readonly symbolized: boolean;
  /** Some value exceeded ±2^53 and is approximate. */
  readonly inexact: boolean;
  /** Sum over all samples, per sample type name (inuse_space, alloc_objects, …). */
  readonly totals: Readonly<Record<string, number>>;
  /** The profile has in-use object counts (single-type profiles only have bytes). */
  readonly hasObjects: boolean;
  readonly strings: readonly string[];
  readonly sites: HeapSiteColumns;
  /** What did not make the cut. */
  readonly other: { readonly sites: number; readonly bytes: number; readonly objects: number };
}

/** One allocation site, expanded from the columns. */
export interface HeapSite {
  readonly function: string;
  readonly file: string;
  readonly line: number;
  readonly bytes: number;
  readonly objects: number;
}

export interface HeapSummaryOptions {
  /** Keep at most this many sites (default 200); Infinity keeps all. */
  readonly maxSites?: number;
}

export function findSampleType(p: Profile, names: readonly string[]): number {
  for (const name of names) {
    const i = p.sampleTypes.findIndex((t) => t.type === name);
    if (i >= 0) return i;
  }
  return -1;
}

/** Totals per sample type name (the first of duplicate names wins). */
export function sampleTotals(p: Profile): Record<string, number> {
  const n = p.sampleTypes.length;
  const sums = new Float64Array(n);
  const values = p.values;
  if (n === 4) {
    // Go's heap profiles: four running sums in registers, not in memory (same order, same sums).
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let row = 0; row < values.length; row += 4) {
      s0 += values[row] ?? 0;
      s1 += values[row + 1] ?? 0;
      s2 += values[row + 2] ?? 0;
      s3 += values[row + 3] ?? 0;
    }
    sums.set([s0, s1, s2, s3]);
  } else {
    for (let row = 0; row < values.length; row += n) {
      for (let t = 0; t < n; t++) sums[t] = (sums[t] ?? 0) + (values[row + t] ?? 0);
    }
  }
  const totals: Record<string, number> = {};
  p.sampleTypes.forEach((t, i) => {
    if (!(t.type in totals)) totals[t.type] = sums[i] ?? 0;
  });
  return totals;
}

export function summarizeHeap(p: Profile, options: HeapSummaryOptions = {}): HeapSummary {
  const space = findSampleType(p, INUSE_SPACE_TYPES);
  if (space < 0) {
    throw new MissingSampleTypeError(
      "inuse_space",
      p.sampleTypes.map((t) => t.type),
    );
  }
  const objects = findSampleType(p, INUSE_OBJECTS_TYPES);
  const byLocation = inuseByLeafLocation(p, space, objects);
  const sites = new SiteTable(p, byLocation.touchedCount + 1);
  sites.addLocations(byLocation.touched, byLocation.touchedCount, byLocation.bytes, byLocation.objects);
  if (byLocation.noStack.bytes !== 0 || byLocation.noStack.objects !== 0) {
    sites.add(-1, byLocation.noStack.bytes, byLocation.noStack.objects);
  }
  const { kept, other } = sites.top(options.maxSites ?? DEFAULT_MAX_SITES);
  const strings: string[] = [];
  const ids = new Map<string, number>();
  const internAll = (names: readonly string[]): number[] => {
    const out: number[] = [];
    for (const s of names) {
      let id = ids.get(s);
      if (id === undefined) {
        id = strings.push(s) - 1;
        ids.set(s, id);
      }
      out.push(id);
    }
    return out;
  };
  return {
    kind: "heap",
    version: 1,
    timeNanos: p.timeNanos,
    symbolized: sites.symbolized,
    inexact: p.inexactValues,
    totals: sampleTotals(p),
    hasObjects: objects >= 0,
    strings,
    sites: {
      function: internAll(kept.function),
      file: internAll(kept.file),
      line: kept.line,
      bytes: kept.bytes,
      objects: kept.objects,
    },
    other,
  };
}

/** In-use bytes and objects summed per leaf location: typed arrays, no hashing per sample. */
function inuseByLeafLocation(p: Profile, space: number, objects: number) {
  const count = p.locations.count;
  const arena = new Arena(count * 2, count * 2);
  const bytes = arena.f64(count);
  const objs = arena.f64(count);
  const seen = arena.u32(count);
  /** The locations with a sample, in order of first sight: touched[0 … touchedCount). */
  const touched = arena.u32(count);
  let touchedCount = 0;
  const noStack = { bytes: 0, objects: 0 };
  const { values, stackOffsets, stackLocations } = p;
  const n = p.sampleTypes.length;
  for (let i = 0; i < p.sampleCount; i++) {
    const b = values[i * n + space] ?? 0;
    const o = objects < 0 ? 0 : (values[i * n + objects] ?? 0);
    if (b === 0 && o === 0) continue; // Go keeps freed sites around with zero in-use
    const at = stackOffsets[i] ?? 0;
    if (at === stackOffsets[i + 1]) {
      noStack.bytes += b;
      noStack.objects += o;
      continue;
    }
    const loc = stackLocations[at] ?? 0;
    if (seen[loc] === 0) {
      seen[loc] = 1;
      touched[touchedCount++] = loc;
    }
    bytes[loc] = (bytes[loc] ?? 0) + b;
    objs[loc] = (objs[loc] ?? 0) + o;
  }
  return { bytes, objects: objs, touched, touchedCount, noStack };
}

/** Expands the kept sites into objects (largest first). */
export function heapSites(s: HeapSummary): HeapSite[] {
  const str = (i: number | undefined): string => s.strings[i ?? -1] ?? "";
  return s.sites.bytes.map((bytes, i) => ({
    function: str(s.sites.function[i]),
    file: str(s.sites.file[i]),
    line: s.sites.line[i] ?? 0,
    bytes,
    objects: s.sites.objects[i] ?? 0,
  }));
}

/**
 * The in-use figure of a profile that samples allocations by size (its period, in bytes: Go's
 * runtime.MemProfileRate) is an estimate: an object of s bytes is recorded with chance p = 1 − e^(−s/R)
 * and counted as s/p. Its variance is Σ bytes·s·(1 − p)/p over the sample rows — about bytes × R for
 * small objects, next to nothing for objects well above R. Returned as an effective period, that
 * variance over the in-use bytes (at most R), so the error of the figure is √(in-use × it). Undefined
 * when the profile does not sample by size; the period itself when it has no object counts.
 */
export function effectiveSamplingBytes(profile: Profile): number | undefined {
  const period = profile.periodType?.unit === "bytes" && profile.period > 0 ? profile.period : undefined;
  if (period === undefined) return undefined;
  const space = findSampleType(profile, INUSE_SPACE_TYPES);
  const objects = findSampleType(profile, INUSE_OBJECTS_TYPES);
  if (space < 0 || objects < 0) return period;
  const k = profile.sampleTypes.length;
  const values = profile.values;
  let bytes = 0;
  let variance = 0;
  for (let row = 0; row < values.length; row += k) {
    const b = values[row + space] ?? 0;
    const n = values[row + objects] ?? 0;
    if (!(b > 0 && n > 0)) continue;
    const size = b / n;
    const missed = Math.exp(-size / period);
    bytes += b;
    variance += (b * size * missed) / (1 - missed);
  }
  return bytes > 0 ? Math.min(period, variance / bytes) : period;
}

/** In-use bytes of the profile (the total of its in-use space sample type). */
export function inuseBytes(s: HeapSummary): number {
  for (const name of INUSE_SPACE_TYPES) {
    const v = s.totals[name];
    if (v !== undefined) return v;
  }
  return 0;
}
