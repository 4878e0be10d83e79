// Allocation sites (leaf function + line) of one profile, keyed by numbers, not strings,
// in typed arrays: names are decoded only for the sites that make the cut.
import { formatAddress } from "./frames.ts";
import type { Profile } from "./profile.ts";
import { NONE } from "./profile.ts";

export interface KeptSite {
  readonly function: string;
  readonly file: string;
  readonly line: number;
  readonly bytes: number;
  readonly objects: number;
}

export class SiteTable {
  symbolized = true;
  size = 0;
  private readonly p: Profile;
  /** Site of (canonical function, line), per canonical function position. */
  private readonly lines: (Map<number, number> | undefined)[] = [];
  /** Sites without a function: bare addresses, "no stack". */
  private readonly unnamed = new Map<string, number>();
  /** Canonical function position per function position (-1: not computed yet). */
  private readonly canonical: Int32Array;
  private readonly byName = new Map<number, number>();
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
    this.canonical = new Int32Array(p.functions.count).fill(-1);
    this.fn = new Uint32Array(capacity);
    this.loc = new Int32Array(capacity);
    this.line = new Float64Array(capacity);
    this.bytes = new Float64Array(capacity);
    this.objects = new Float64Array(capacity);
  }

  /** Adds a leaf location's in-use values to its site. loc -1 is "no stack". */
  add(loc: number, bytes: number, objects: number): void {
    const { locations: l, functions: f } = this.p;
    let fn = NONE;
    let line = 0;
    let byLine: Map<number, number> | undefined;
    let key = "<no stack>";
    if (loc >= 0) {
      const first = l.lineOffsets[loc] ?? 0;
      const end = l.lineOffsets[loc + 1] ?? first;
      fn = first < end ? (l.lineFunction[first] ?? NONE) : NONE;
      if (fn !== NONE && f.name[fn] === 0) fn = NONE; // a function without a name: no symbol
      if (fn === NONE) {
        this.symbolized = false;
        key = formatAddress(l.addressHi[loc] ?? 0, l.addressLo[loc] ?? 0);
      } else {
        fn = this.canonicalFunction(fn);
        line = l.lineNumber[first] ?? 0;
        byLine = this.lines[fn] ??= new Map<number, number>();
      }
    }
    let at = byLine === undefined ? this.unnamed.get(key) : byLine.get(line);
    if (at === undefined) {
      at = this.size++;
      if (byLine === undefined) this.unnamed.set(key, at);
      else byLine.set(line, at);
      this.fn[at] = fn;
      this.loc[at] = loc;
      this.line[at] = line;
    }
    this.bytes[at] = (this.bytes[at] ?? 0) + bytes;
    this.objects[at] = (this.objects[at] ?? 0) + objects;
  }

  /** Function entries with the same name and file are one function. */
  private canonicalFunction(fn: number): number {
    const known = this.canonical[fn] ?? -1;
    if (known >= 0) return known;
    const f = this.p.functions;
    const name = f.name[fn] ?? 0;
    const file = f.file[fn] ?? 0;
    let canonical = this.byName.get(name);
    if (canonical === undefined) {
      canonical = fn;
      this.byName.set(name, fn);
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
  top(limit: number): { kept: KeptSite[]; other: { sites: number; bytes: number; objects: number } } {
    const bytes = this.bytes;
    const objects = this.objects;
    const candidates = this.candidates(limit);
    // Names of the candidates, decoded once: ties are broken by name.
    const fns = candidates.map((i) => this.functionName(i));
    const files = candidates.map((i) => this.fileName(i));
    const order = candidates.map((_, k) => k);
    order.sort((a, b) => {
      const i = candidates[a] ?? 0;
      const j = candidates[b] ?? 0;
      return (
        (bytes[j] ?? 0) - (bytes[i] ?? 0) ||
        (objects[j] ?? 0) - (objects[i] ?? 0) ||
        compareStrings(fns[a] ?? "", fns[b] ?? "") ||
        compareStrings(files[a] ?? "", files[b] ?? "") ||
        (this.line[i] ?? 0) - (this.line[j] ?? 0)
      );
    });
    if (order.length > limit) order.length = limit;
    const other = { sites: this.size, bytes: 0, objects: 0 };
    for (let i = 0; i < this.size; i++) {
      other.bytes += bytes[i] ?? 0;
      other.objects += objects[i] ?? 0;
    }
    const kept = order.map((k): KeptSite => {
      const i = candidates[k] ?? 0;
      const b = bytes[i] ?? 0;
      const o = objects[i] ?? 0;
      other.sites--;
      other.bytes -= b;
      other.objects -= o;
      return { function: fns[k] ?? "", file: files[k] ?? "", line: this.line[i] ?? 0, bytes: b, objects: o };
    });
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
