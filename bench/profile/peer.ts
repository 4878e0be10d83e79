// The peer path the benchmark compares against: pprof-format's full decode, then the same
// aggregation as summarizeHeap (in-use bytes/objects per leaf function + file:line, top 200).
// Kept out of src/: the benchmark decided for the purpose-built decoder.
import zlib from "node:zlib";
import { Profile } from "pprof-format";

type Numeric = number | bigint;

export interface PeerSummary {
  readonly totals: Record<string, number>;
  readonly sites: { function: string; file: string; line: number; bytes: number; objects: number }[];
  readonly other: { sites: number; bytes: number; objects: number };
}

export function peerSummarize(compressed: Uint8Array, maxSites = 200): PeerSummary {
  const p = Profile.decode(zlib.gunzipSync(compressed));
  const str = (i: Numeric): string => p.stringTable.strings[Number(i)] ?? "";
  const types = p.sampleType.map((t) => str(t.type));
  const space = types.indexOf("inuse_space");
  const objects = types.indexOf("inuse_objects");
  if (space < 0) throw new Error("no inuse_space");
  const locations = new Map(p.location.map((l) => [Number(l.id), l]));
  const functions = new Map(p.function.map((f) => [Number(f.id), f]));
  const totals = new Array<number>(types.length).fill(0);
  const sites = new Map<
    string,
    { function: string; file: string; line: number; bytes: number; objects: number }
  >();
  for (const s of p.sample) {
    const values = s.value.map(Number);
    values.forEach((v, i) => (totals[i] = (totals[i] ?? 0) + v));
    const bytes = values[space] ?? 0;
    const objs = objects < 0 ? 0 : (values[objects] ?? 0);
    if (bytes === 0 && objs === 0) continue;
    const leafId = s.locationId[0];
    const loc = leafId === undefined ? undefined : locations.get(Number(leafId));
    const line = loc?.line[0];
    const fn = line === undefined ? undefined : functions.get(Number(line.functionId));
    const site = {
      function: fn === undefined ? `0x${Number(loc?.address ?? 0).toString(16)}` : str(fn.name),
      file: fn === undefined ? "" : str(fn.filename),
      line: line === undefined ? 0 : Number(line.line),
    };
    const key = `${site.function}\u0000${site.file}\u0000${site.line}`;
    const had = sites.get(key);
    if (had === undefined) sites.set(key, { ...site, bytes, objects: objs });
    else {
      had.bytes += bytes;
      had.objects += objs;
    }
  }
  const sorted = [...sites.values()].sort((a, b) => b.bytes - a.bytes || b.objects - a.objects);
  const rest = sorted.slice(maxSites);
  return {
    totals: Object.fromEntries(types.map((t, i) => [t, totals[i] ?? 0])),
    sites: sorted.slice(0, maxSites),
    other: {
      sites: rest.length,
      bytes: rest.reduce((a, s) => a + s.bytes, 0),
      objects: rest.reduce((a, s) => a + s.objects, 0),
    },
  };
}
