// The diff baseline as the controller keeps it, one per pod for as long as the pod is watched: the
// biggest sites of a heap summary (as truncateHeapSummary cuts them) packed into one Float64Array, and
// a table of their names that two packed summaries of one pod can share. A JS array spends 8 bytes on
// every number and each typed array view ~200 bytes of objects, so one buffer holds it all:
//
//   header (HEADER doubles)                         — Float64
//   bytes[n] | objects[n]                           — Uint32 (Float64 when some count does not fit)
//   line[n]                                         — Uint32 (Float64 when some line does not fit)
//   function[n] | file[n]                           — Uint16 refs into `strings` (Uint32 for big tables)
//
// unpackHeapSummary gives back a HeapSummary that diffs exactly like the truncated summary.
import { INUSE_SPACE_TYPES, type HeapSummary } from "./heap.ts";
import { truncateHeapSummary } from "./truncate.ts";

export interface PackedHeapSummary {
  /** Names the sites refer to; may hold names of another summary's sites too (see PackOptions). */
  readonly strings: readonly string[];
  /** Header and columns; read it with unpackHeapSummary. */
  readonly data: Float64Array;
}

export interface PackOptions {
  /** Returns one shared copy of a name (the controller's intern pool). */
  readonly intern?: (text: string) => string;
  /** A table to reuse, when it already holds every name the kept sites need (the pod's other baseline). */
  readonly strings?: readonly string[];
}

/** Positions in the header. */
const Header = {
  Sites: 0,
  TimeNanos: 1,
  Inuse: 2,
  OtherSites: 3,
  OtherBytes: 4,
  OtherObjects: 5,
  Flags: 6,
} as const;
const HEADER = 7;

const Flag = {
  Symbolized: 1,
  Inexact: 2,
  HasObjects: 4,
  WideLines: 8,
  WideRefs: 16,
  WideCounts: 32,
  /** The in-use sample type's position in INUSE_SPACE_TYPES, plus one, from this bit on (0: none). */
  InuseTypeShift: 6,
} as const;

const UINT16_LIMIT = 0x10000;
const UINT32_LIMIT = 0x1_0000_0000;

function fitsUint32(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x < UINT32_LIMIT;
}

/** Where each column starts, in bytes, for `n` sites. */
function layout(n: number, flags: number) {
  const counts = 8 * HEADER;
  const countBytes = flags & Flag.WideCounts ? 8 : 4;
  const lines = counts + 2 * countBytes * n; // a multiple of 8: Float64 lines stay aligned
  const lineBytes = flags & Flag.WideLines ? 8 : 4;
  const refs = lines + lineBytes * n;
  const refBytes = flags & Flag.WideRefs ? 4 : 2;
  return { counts, lines, refs, end: refs + 2 * refBytes * n };
}

/** Refs of the kept sites into `table`, or undefined when it lacks a name. */
function refsInto(table: readonly string[], s: HeapSummary, n: number): number[] | undefined {
  const names = s.strings;
  const at = new Map<string, number>();
  table.forEach((name, i) => {
    if (!at.has(name)) at.set(name, i);
  });
  const refs = new Array<number>(2 * n);
  for (let i = 0; i < n; i++) {
    const fn = at.get(names[s.sites.function[i] ?? 0] ?? "");
    const file = at.get(names[s.sites.file[i] ?? 0] ?? "");
    if (fn === undefined || file === undefined) return undefined;
    refs[i] = fn;
    refs[n + i] = file;
  }
  return refs;
}

/** The biggest `maxSites` sites of `s`, the rest folded into `other` (truncateHeapSummary), packed. */
export function packHeapSummary(
  s: HeapSummary,
  maxSites: number,
  options: PackOptions = {},
): PackedHeapSummary {
  const t = truncateHeapSummary(s, maxSites, options.intern);
  const n = t.sites.bytes.length;
  const shared = options.strings === undefined ? undefined : refsInto(options.strings, t, n);
  const strings = shared === undefined ? t.strings : (options.strings ?? t.strings);
  const refs = shared ?? [...t.sites.function, ...t.sites.file];
  const inuseType = INUSE_SPACE_TYPES.findIndex((name) => t.totals[name] !== undefined) + 1;
  const flags =
    (t.symbolized ? Flag.Symbolized : 0) |
    (t.inexact ? Flag.Inexact : 0) |
    (t.hasObjects ? Flag.HasObjects : 0) |
    (t.sites.bytes.every(fitsUint32) && t.sites.objects.every(fitsUint32) ? 0 : Flag.WideCounts) |
    (t.sites.line.every(fitsUint32) ? 0 : Flag.WideLines) |
    (strings.length <= UINT16_LIMIT ? 0 : Flag.WideRefs) |
    (inuseType << Flag.InuseTypeShift);
  const at = layout(n, flags);
  const data = new Float64Array(Math.ceil(at.end / 8));
  data.set([
    n,
    t.timeNanos,
    inuseType === 0 ? 0 : (t.totals[INUSE_SPACE_TYPES[inuseType - 1] ?? ""] ?? 0),
    t.other.sites,
    t.other.bytes,
    t.other.objects,
    flags,
  ]);
  const { counts, lines, refColumn } = views(data, n, flags, at);
  counts.set(t.sites.bytes);
  counts.set(t.sites.objects, n);
  lines.set(t.sites.line);
  refColumn.set(refs);
  return { strings, data };
}

function views(data: Float64Array, n: number, flags: number, at: ReturnType<typeof layout>) {
  const { buffer, byteOffset } = data;
  return {
    /** bytes[n] then objects[n]. */
    counts:
      flags & Flag.WideCounts
        ? new Float64Array(buffer, byteOffset + at.counts, 2 * n)
        : new Uint32Array(buffer, byteOffset + at.counts, 2 * n),
    lines:
      flags & Flag.WideLines
        ? new Float64Array(buffer, byteOffset + at.lines, n)
        : new Uint32Array(buffer, byteOffset + at.lines, n),
    refColumn:
      flags & Flag.WideRefs
        ? new Uint32Array(buffer, byteOffset + at.refs, 2 * n)
        : new Uint16Array(buffer, byteOffset + at.refs, 2 * n),
  };
}

/** The packed summary as a HeapSummary (totals: only the in-use space total, all a diff reads). */
export function unpackHeapSummary(p: PackedHeapSummary): HeapSummary {
  const { data } = p;
  const n = data[Header.Sites] ?? 0;
  const flags = data[Header.Flags] ?? 0;
  const { counts, lines, refColumn } = views(data, n, flags, layout(n, flags));
  const inuseType = INUSE_SPACE_TYPES[(flags >> Flag.InuseTypeShift) - 1];
  return {
    kind: "heap",
    version: 1,
    timeNanos: data[Header.TimeNanos] ?? 0,
    symbolized: (flags & Flag.Symbolized) !== 0,
    inexact: (flags & Flag.Inexact) !== 0,
    totals: inuseType === undefined ? {} : { [inuseType]: data[Header.Inuse] ?? 0 },
    hasObjects: (flags & Flag.HasObjects) !== 0,
    strings: p.strings,
    sites: {
      function: Array.from(refColumn.subarray(0, n)),
      file: Array.from(refColumn.subarray(n, 2 * n)),
      line: Array.from(lines),
      bytes: Array.from(counts.subarray(0, n)),
      objects: Array.from(counts.subarray(n, 2 * n)),
    },
    other: {
      sites: data[Header.OtherSites] ?? 0,
      bytes: data[Header.OtherBytes] ?? 0,
      objects: data[Header.OtherObjects] ?? 0,
    },
  };
}
