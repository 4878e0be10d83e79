// Allocation sites (leaf function + line) of one profile, keyed by numbers, not strings,
// in typed arrays: names are decoded only for the sites that make the cut.
import { formatAddress } from "./frames.ts";
import type { Profile } from "./profile.ts";
import { NONE } from "./profile.ts";
import { KeyIndex } from "./key-index.ts";
import { Arena } from "./proto.ts";

/** The kept sites as columns, largest first. */
export interface KeptSites {
  readonly function: string[];
  readonly file: string[];
  readonly line: number[];
  readonly bytes: number[];
  readonly objects: number[];
}

export class SiteTable {
  symbolized = true;
  size = 0;
  private readonly p: Profile;
  /** Named sites by (canonical function, line); siteOf maps its entries to sites. */
  private readonly named: KeyIndex;
  private readonly siteOf: Int32Array;
  /** Sites without a function: bare addresses, "no stack". */
  private readonly unnamed = new Map<string, number>();
  /** Canonical function position per function position (-1: not computed yet). */
  private readonly canonical: Int32Array;
  /** First function position per name (string table position; -1: none yet). */
  private readonly byName: Int32Array;
  private readonly byNameAndFile = new Map<string, number>();
  // One entry per site; at most one site per added location.
  private readonly fn: Uint32Array;
  private readonly loc: Int32Array;
  private readonly line: Float64Array;
  private readonly bytes: Float64Array;
  private readonly objects: Float64Array;

  /** capacity: how many locations will be added. */
  constructor(p: Profile, capacity: number) {
    this.p = p;
    // One allocation for the key index and these tables.
    const arena = new Arena(
      capacity * 3 + KeyIndex.doubles(capacity),
      p.functions.count + p.strings.count + capacity * 3 + KeyIndex.words(capacity),
    );
    this.named = new KeyIndex(capacity, arena);
    this.canonical = arena.i32(p.functions.count).fill(-1);
    this.byName = arena.i32(p.strings.count).fill(-1);
    this.siteOf = arena.i32(capacity);
    this.fn = arena.u32(capacity);
    this.loc = arena.i32(capacity);
    this.line = arena.f64(capacity);
    this.bytes = arena.f64(capacity);
    this.objects = arena.f64(capacity);
  }

  /** Adds the in-use values of locations[0 … count) (bytes and objects by location) to their sites. */
  addLocations(locations: Uint32Array, count: number, bytes: Float64Array, objects: Float64Array): void {
    for (let i = 0; i < count; i++) {
      const loc = locations[i] ?? 0;
      this.add(loc, bytes[loc] ?? 0, objects[loc] ?? 0);
    }
  }

  /** Adds a leaf location's in-use values to its site. loc -1 is "no stack". */
  add(loc: number, bytes: number, objects: number): void {
    const { locations: l, functions: f } = this.p;
    let at = -1;
    if (loc >= 0) {
      const first = l.lineOffsets[loc] ?? 0;
      const end = l.lineOffsets[loc + 1] ?? first;
      let fn = first < end ? (l.lineFunction[first] ?? NONE) : NONE;
      if (fn !== NONE && f.name[fn] === 0) fn = NONE; // a function without a name: no symbol
      if (fn === NONE) {
        this.symbolized = false;
        at = this.unnamedSite(formatAddress(l.addressHi[loc] ?? 0, l.addressLo[loc] ?? 0), loc);
      } else {
        at = this.namedSite(this.canonicalFunction(fn), l.lineNumber[first] ?? 0, loc);
      }
    } else {
      at = this.unnamedSite("<no stack>", loc);
    }
    this.bytes[at] = (this.bytes[at] ?? 0) + bytes;
    this.objects[at] = (this.objects[at] ?? 0) + objects;
  }

  /** The site of (canonical function, line), made (for loc) if new. */
  private namedSite(fn: number, line: number, loc: number): number {
    const known = this.named.size;
    const entry = this.named.add(fn, 0, line);
    if (entry < known) return this.siteOf[entry] ?? 0;
    const at = this.newSite(fn, line, loc);
    this.siteOf[entry] = at;
    return at;
  }

  private unnamedSite(key: string, loc: number): number {
    let at = this.unnamed.get(key);
    if (at === undefined) {
      at = this.newSite(NONE, 0, loc);
      this.unnamed.set(key, at);
    }
    return at;
  }

  private newSite(fn: number, line: number, loc: number): number {
    const at = this.size++;
    this.fn[at] = fn;
    this.loc[at] = loc;
    this.line[at] = line;
    return at;
  }

  /** Function entries with the same name and file are one function. */
  private canonicalFunction(fn: number): number {
    const known = this.canonical[fn] ?? -1;
    if (known >= 0) return known;
    const f = this.p.functions;
    const name = f.name[fn] ?? 0;
    const file = f.file[fn] ?? 0;
    let canonical = this.byName[name] ?? -1;
    if (canonical < 0) {
      canonical = fn;
      this.byName[name] = fn;
    } else if (f.file[canonical] !== file) {
      // Same name in another file (rare): key by both.
      const both = `${name}:${file}`;
      canonical = this.byNameAndFile.get(both) ?? fn;
      this.byNameAndFile.set(both, canonical);
    }
    this.canonical[fn] = canonical;
    return canonical;
  }

  private functionName(i: number): string {
    const fn = this.fn[i] ?? NONE;
    if (fn !== NONE) return this.p.strings.get(this.p.functions.name[fn] ?? 0);
    const loc = this.loc[i] ?? -1;
    if (loc < 0) return "<no stack>";
    const l = this.p.locations;
    return formatAddress(l.addressHi[loc] ?? 0, l.addressLo[loc] ?? 0);
  }

  private fileName(i: number): string {
    const fn = this.fn[i] ?? NONE;
    return fn === NONE ? "" : this.p.strings.get(this.p.functions.file[fn] ?? 0);
  }

  /**
   * The `limit` biggest sites by in-use bytes (ties: objects, then name, file, line), and
   * the sums of the rest.
   */
  top(limit: number): { kept: KeptSites; other: { sites: number; bytes: number; objects: number } } {
    const bytes = this.bytes;
    const objects = this.objects;
    const candidates = this.candidates(limit);
    const n = candidates.length;
    // The candidates' sort keys side by side, names decoded once (ties are broken by name).
    const arena = new Arena(n * 3, n * 3);
    const keys: SortKeys = {
      bytes: arena.f64(n),
      objects: arena.f64(n),
      line: arena.f64(n),
      fn: arena.u32(n),
      fns: new Array<string>(n),
      files: new Array<string>(n),
    };
    for (let k = 0; k < n; k++) {
      const i = candidates[k] ?? 0;
      keys.bytes[k] = bytes[i] ?? 0;
      keys.objects[k] = objects[i] ?? 0;
      keys.line[k] = this.line[i] ?? 0;
      keys.fn[k] = this.fn[i] ?? NONE;
      keys.fns[k] = this.functionName(i);
      keys.files[k] = this.fileName(i);
    }
    const sorted = sortKeys(keys, n, arena.i32(n), arena.i32(n));
    const other = { sites: this.size, bytes: 0, objects: 0 };
    for (let i = 0; i < this.size; i++) {
      other.bytes += bytes[i] ?? 0;
      other.objects += objects[i] ?? 0;
    }
    const count = Math.min(n, limit);
    const kept: KeptSites = {
      function: new Array<string>(count),
      file: new Array<string>(count),
      line: [],
      bytes: [],
      objects: [],
    };
    for (let at = 0; at < count; at++) {
      const k = sorted[at] ?? 0;
      const b = keys.bytes[k] ?? 0;
      const o = keys.objects[k] ?? 0;
      other.sites--;
      other.bytes -= b;
      other.objects -= o;
      kept.function[at] = keys.fns[k] ?? "";
      kept.file[at] = keys.files[k] ?? "";
      // Numbers are pushed: the arrays stay packed, which the summary's readers index faster.
      kept.line.push(keys.line[k] ?? 0);
      kept.bytes.push(b);
      kept.objects.push(o);
    }
    return { kept, other };
  }

  /** The `limit` largest by bytes, plus any tied with the smallest of them. */
  private candidates(limit: number): number[] {
    const n = this.size;
    const out: number[] = [];
    if (n <= limit) {
      for (let i = 0; i < n; i++) out.push(i);
      return out;
    }
    const threshold = kthLargest(this.bytes.slice(0, n), limit);
    for (let i = 0; i < n; i++) if ((this.bytes[i] ?? 0) >= threshold) out.push(i);
    return out;
  }
}

/** Sort keys of candidate sites, by position. */
interface SortKeys {
  readonly bytes: Float64Array;
  readonly objects: Float64Array;
  readonly line: Float64Array;
  /** Canonical function position, or NONE: same function, same name and file. */
  readonly fn: Uint32Array;
  readonly fns: string[];
  readonly files: string[];
}

/** Negative when site a comes first: bytes, then objects (largest first), name, file, line. */
function compareKeys(k: SortKeys, a: number, b: number): number {
  const byValue = (k.bytes[b] ?? 0) - (k.bytes[a] ?? 0) || (k.objects[b] ?? 0) - (k.objects[a] ?? 0);
  if (byValue !== 0) return byValue;
  const fn = k.fn[a] ?? NONE;
  if (fn !== k.fn[b] || fn === NONE) {
    const byName =
      compareStrings(k.fns[a] ?? "", k.fns[b] ?? "") || compareStrings(k.files[a] ?? "", k.files[b] ?? "");
    if (byName !== 0) return byName;
  }
  return (k.line[a] ?? 0) - (k.line[b] ?? 0);
}

/**
 * Positions 0…n-1 in compareKeys order: a merge sort with the comparison inlined, which took a
 * third of the time of Array.prototype.sort calling a closure (the sort was most of top()).
 */
function sortKeys(k: SortKeys, n: number, first: Int32Array, second: Int32Array): Int32Array {
  let from = first;
  let to = second;
  for (let i = 0; i < n; i++) from[i] = i;
  const RUN = 8;
  // Insertion sort of short runs…
  for (let start = 0; start < n; start += RUN) {
    const end = Math.min(start + RUN, n);
    for (let i = start + 1; i < end; i++) {
      const x = from[i] ?? 0;
      let j = i - 1;
      while (j >= start && compareKeys(k, from[j] ?? 0, x) > 0) {
        from[j + 1] = from[j] ?? 0;
        j--;
      }
      from[j + 1] = x;
    }
  }
  // …then merged pairwise, stable.
  for (let width = RUN; width < n; width *= 2) {
    for (let left = 0; left < n; left += 2 * width) {
      const mid = Math.min(left + width, n);
      const end = Math.min(left + 2 * width, n);
      let i = left;
      let j = mid;
      let out = left;
      while (i < mid && j < end) {
        const a = from[i] ?? 0;
        const b = from[j] ?? 0;
        if (compareKeys(k, b, a) < 0) {
          to[out++] = b;
          j++;
        } else {
          to[out++] = a;
          i++;
        }
      }
      while (i < mid) to[out++] = from[i++] ?? 0;
      while (j < end) to[out++] = from[j++] ?? 0;
    }
    const t = from;
    from = to;
    to = t;
  }
  return from;
}

/** The k-th largest value (1-based), by quickselect: O(n), reorders `a`. */
function kthLargest(a: Float64Array, k: number): number {
  const target = a.length - k; // index of the answer in ascending order
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1] ?? 0;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] ?? 0) < pivot) i++;
      while ((a[j] ?? 0) > pivot) j--;
      if (i <= j) {
        const t = a[i] ?? 0;
        a[i] = a[j] ?? 0;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target] ?? 0;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
