// Flat and cumulative values per function (or per function + line), as `go tool pprof -top`
// computes them — optionally of new − base, as `go tool pprof -top -base BASE NEW` does.
import { MissingSampleTypeError } from "./errors.ts";
import type { Frame } from "./frames.ts";
import { locationFrames } from "./frames.ts";
import { findSampleType, INUSE_SPACE_TYPES } from "./heap.ts";
import type { Profile, SampleType } from "./profile.ts";

export type Granularity = "function" | "line";

export interface TopOptions {
  /** Sample type name; default: in-use space, else the profile's default, else the last type. */
  readonly sampleType?: string;
  readonly by?: Granularity;
}

export interface TopRow {
  /** As pprof prints it: "fn" or "fn file:line". */
  readonly name: string;
  readonly function: string;
  readonly file: string;
  readonly line: number;
  /** pprof's inline marker: reached only through inlined calls, or through both kinds. */
  readonly inline: "" | "inline" | "partial-inline";
  readonly flat: number;
  readonly cum: number;
}

export interface TopTable {
  readonly sampleType: SampleType;
  readonly by: Granularity;
  /** The denominator of the percentages, as pprof computes it (sum of |value| over samples). */
  readonly total: number;
  /** Every node, sorted like pprof: |flat| descending, then name, then |cum|. */
  readonly rows: readonly TopRow[];
  /** New − base (from topTable's base argument). */
  readonly diff: boolean;
  readonly symbolized: boolean;
}

/** The sample type a report uses when none is asked for. */
export function defaultSampleTypeIndex(p: Profile): number {
  const space = findSampleType(p, INUSE_SPACE_TYPES);
  if (space >= 0) return space;
  const preferred = p.sampleTypes.findIndex((t) => t.type === p.defaultSampleType);
  return preferred >= 0 ? preferred : p.sampleTypes.length - 1;
}

function pickSampleType(p: Profile, name: string | undefined): number {
  const names = p.sampleTypes.map((t) => t.type);
  if (name === undefined) {
    const i = defaultSampleTypeIndex(p);
    if (i < 0) throw new MissingSampleTypeError("any sample type", names);
    return i;
  }
  const i = names.indexOf(name);
  if (i < 0) throw new MissingSampleTypeError(name, names);
  return i;
}

interface Node {
  readonly function: string;
  readonly file: string;
  readonly line: number;
  readonly name: string;
  flat: number;
  cum: number;
  inlineIn: boolean;
  callIn: boolean;
  stamp: number;
}

/** Builds the top table of `profile`, or of profile − base when base is given. */
export function topTable(profile: Profile, options: TopOptions = {}, base?: Profile): TopTable {
  requireStacks(profile);
  const by = options.by ?? "function";
  const index = pickSampleType(profile, options.sampleType);
  const sampleType = profile.sampleTypes[index] ?? { type: "", unit: "" };
  const sources = [new Source(profile, index, 1)];
  if (base !== undefined) {
    requireStacks(base);
    sources.push(new Source(base, pickSampleType(base, sampleType.type), -1));
  }
  const graph = new Graph(by);
  let total = 0;
  if (base === undefined && !sources.some((s) => s.hasNegative())) {
    for (const src of sources) {
      src.forEachSample((sample, value) => {
        graph.addSample(src, sample, value);
        total += Math.abs(value);
      });
    }
  } else {
    // Like pprof: identical samples (same stack and labels) are merged first, so a site that
    // did not change between base and new contributes nothing, not +x and -x.
    for (const m of mergeSamples(sources)) {
      if (m.value === 0) continue;
      graph.addSample(m.source, m.sample, m.value);
      total += Math.abs(m.value);
    }
  }
  const rows = graph.nodes
    .filter((n) => n.flat !== 0 || n.cum !== 0)
    .map((n): TopRow => ({
      name: n.name,
      function: n.function,
      file: n.file,
      line: n.line,
      inline: n.inlineIn ? (n.callIn ? "partial-inline" : "inline") : "",
      flat: n.flat,
      cum: n.cum,
    }));
  rows.sort(compareRows);
  return { sampleType, by, total, rows, diff: base !== undefined, symbolized: graph.symbolized };
}

function requireStacks(p: Profile): void {
  if (p.stacks !== "full") throw new Error("topTable needs a profile decoded with stacks: 'full'");
}

function compareRows(a: TopRow, b: TopRow): number {
  const flat = Math.abs(b.flat) - Math.abs(a.flat);
  if (flat !== 0) return flat;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return Math.abs(b.cum) - Math.abs(a.cum);
}

/** One profile's samples, signed (+1 new, -1 base), with per-location caches. */
class Source {
  readonly p: Profile;
  private readonly valueIndex: number;
  private readonly sign: number;
  private readonly locKeys: (string | undefined)[];

  constructor(p: Profile, valueIndex: number, sign: 1 | -1) {
    this.p = p;
    this.valueIndex = valueIndex;
    this.sign = sign;
    this.locKeys = new Array<string | undefined>(p.locations.count);
  }

  forEachSample(fn: (sample: number, value: number) => void): void {
    const n = this.p.sampleTypes.length;
    for (let i = 0; i < this.p.sampleCount; i++) {
      const v = this.sign * (this.p.values[i * n + this.valueIndex] ?? 0);
      if (v !== 0) fn(i, v);
    }
  }

  hasNegative(): boolean {
    let negative = false;
    this.forEachSample((_, v) => {
      if (v < 0) negative = true;
    });
    return negative;
  }

  /** Identity of a sample across profiles: its frames and its labels (pprof's merge key). */
  sampleKey(sample: number): string {
    const p = this.p;
    const parts: string[] = [];
    for (let s = p.stackOffsets[sample] ?? 0; s < (p.stackOffsets[sample + 1] ?? 0); s++) {
      parts.push(this.locationKey(p.stackLocations[s] ?? 0));
    }
    return `${parts.join("\u0003")}\u0004${labelKey(p, sample)}`;
  }

  private locationKey(loc: number): string {
    let key = this.locKeys[loc];
    if (key === undefined) {
      key = locationFrames(this.p, loc)
        .map((f) => `${f.function}\u0001${f.file}\u0001${f.line}`)
        .join("\u0002");
      this.locKeys[loc] = key;
    }
    return key;
  }
}

interface Merged {
  readonly source: Source;
  readonly sample: number;
  value: number;
}

function mergeSamples(sources: readonly Source[]): Iterable<Merged> {
  const merged = new Map<string, Merged>();
  for (const source of sources) {
    source.forEachSample((sample, value) => {
      const key = source.sampleKey(sample);
      const m = merged.get(key);
      if (m === undefined) merged.set(key, { source, sample, value });
      else m.value += value;
    });
  }
  return merged.values();
}

function labelKey(p: Profile, sample: number): string {
  const l = p.labels;
  if (l === undefined) return "";
  const parts: string[] = [];
  for (let i = l.offsets[sample] ?? 0; i < (l.offsets[sample + 1] ?? 0); i++) {
    const key = p.strings.get(l.key[i] ?? 0);
    const str = l.str[i] ?? 0;
    const unit = p.strings.get(l.unit[i] ?? 0);
    parts.push(str !== 0 ? `${key}=${p.strings.get(str)}` : `${key}#${l.num[i] ?? 0}${unit}`);
  }
  return parts.sort().join("\u0001");
}

interface Node {
  readonly function: string;
  readonly file: string;
  readonly line: number;
  readonly name: string;
  flat: number;
  cum: number;
  inlineIn: boolean;
  callIn: boolean;
  stamp: number;
}

/** pprof's graph, reduced to what -top prints: per node flat, cum and the inline marker. */
class Graph {
  readonly nodes: Node[] = [];
  symbolized = true;
  private readonly by: Granularity;
  private readonly nodeIds = new Map<string, number>();
  private readonly frameNodes = new Map<Profile, (Int32Array | undefined)[]>();
  private readonly inlineFlags = new Map<Profile, (Uint8Array | undefined)[]>();
  private stamp = 0;

  constructor(by: Granularity) {
    this.by = by;
  }

  addSample(src: Source, sample: number, value: number): void {
    const p = src.p;
    const stamp = ++this.stamp;
    const from = p.stackOffsets[sample] ?? 0;
    const to = p.stackOffsets[sample + 1] ?? from;
    let callee: Node | undefined;
    let calleeInline = false;
    for (let s = from; s < to; s++) {
      const loc = p.stackLocations[s] ?? 0;
      const nodes = this.locationNodes(p, loc);
      const inline = this.inlineFlags.get(p)?.[loc];
      for (let f = 0; f < nodes.length; f++) {
        const node = this.nodes[nodes[f] ?? 0];
        if (node === undefined) continue;
        if (s === from && f === 0) node.flat += value;
        if (node.stamp !== stamp) {
          node.stamp = stamp; // recursion: count a node once per sample
          node.cum += value;
        }
        if (callee !== undefined && callee !== node) {
          // pprof marks a node by the kind of the edges entering it.
          if (calleeInline) callee.inlineIn = true;
          else callee.callIn = true;
        }
        callee = node;
        calleeInline = inline?.[f] === 1;
      }
    }
  }

  private locationNodes(p: Profile, loc: number): Int32Array {
    let perLocation = this.frameNodes.get(p);
    let flags = this.inlineFlags.get(p);
    if (perLocation === undefined || flags === undefined) {
      perLocation = new Array<Int32Array | undefined>(p.locations.count);
      flags = new Array<Uint8Array | undefined>(p.locations.count);
      this.frameNodes.set(p, perLocation);
      this.inlineFlags.set(p, flags);
    }
    let nodes = perLocation[loc];
    if (nodes === undefined) {
      const frames = locationFrames(p, loc);
      nodes = Int32Array.from(frames, (f) => this.nodeFor(f));
      flags[loc] = Uint8Array.from(frames, (f) => (f.inline ? 1 : 0));
      perLocation[loc] = nodes;
    }
    return nodes;
  }

  private nodeFor(f: Frame): number {
    if (!f.symbolized) this.symbolized = false;
    const byLine = this.by === "line" && f.symbolized;
    const name = byLine ? `${f.function} ${f.file}:${f.line}` : f.function;
    let id = this.nodeIds.get(name);
    if (id === undefined) {
      id = this.nodes.length;
      this.nodeIds.set(name, id);
      this.nodes.push({
        function: f.function,
        file: f.file,
        line: byLine ? f.line : 0,
        name,
        flat: 0,
        cum: 0,
        inlineIn: false,
        callIn: false,
        stamp: 0,
      });
    }
    return id;
  }
}
