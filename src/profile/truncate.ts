// A smaller copy of a heap summary: the biggest `maxSites` sites, the rest folded into `other`, the
// string table cut to what they use. The controller keeps the same cut packed (packed.ts) per pod as
// its diff baseline.
import type { HeapSummary } from "./heap.ts";

export function truncateHeapSummary(
  s: HeapSummary,
  maxSites: number,
  internString: (text: string) => string = (t) => t,
): HeapSummary {
  const keep = Math.min(maxSites, s.sites.bytes.length);
  const strings: string[] = [];
  const remap = new Map<number, number>();
  const ref = (i: number): number => {
    let j = remap.get(i);
    if (j === undefined) {
      j = strings.length;
      strings.push(internString(s.strings[i] ?? ""));
      remap.set(i, j);
    }
    return j;
  };
  // Exact-size columns: this copy lives as long as its pod is watched, and arrays grown by push()
  // carry up to half their length again in spare capacity (4.6 → 2.8 KB per 48-site copy).
  const fn = new Array<number>(keep);
  const file = new Array<number>(keep);
  const line = new Array<number>(keep);
  const bytes = new Array<number>(keep);
  const objects = new Array<number>(keep);
  for (let i = 0; i < keep; i++) {
    fn[i] = ref(s.sites.function[i] ?? 0);
    file[i] = ref(s.sites.file[i] ?? 0);
    line[i] = s.sites.line[i] ?? 0;
    bytes[i] = s.sites.bytes[i] ?? 0;
    objects[i] = s.sites.objects[i] ?? 0;
  }
  let otherBytes = s.other.bytes;
  let otherObjects = s.other.objects;
  for (let i = keep; i < s.sites.bytes.length; i++) {
    otherBytes += s.sites.bytes[i] ?? 0;
    otherObjects += s.sites.objects[i] ?? 0;
  }
  return {
    ...s,
    strings: strings.slice(),
    sites: { function: fn, file, line, bytes, objects },
    other: { sites: s.other.sites + (s.sites.bytes.length - keep), bytes: otherBytes, objects: otherObjects },
  };
}
