// A smaller copy of a heap summary: the biggest `maxSites` sites, the rest folded into `other`, the
// string table cut to what they use. The controller keeps this one per pod as its diff baseline.
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
  const fn: number[] = [];
  const file: number[] = [];
  const line: number[] = [];
  const bytes: number[] = [];
  const objects: number[] = [];
  for (let i = 0; i < keep; i++) {
    fn.push(ref(s.sites.function[i] ?? 0));
    file.push(ref(s.sites.file[i] ?? 0));
    line.push(s.sites.line[i] ?? 0);
    bytes.push(s.sites.bytes[i] ?? 0);
    objects.push(s.sites.objects[i] ?? 0);
  }
  let otherBytes = s.other.bytes;
  let otherObjects = s.other.objects;
  for (let i = keep; i < s.sites.bytes.length; i++) {
    otherBytes += s.sites.bytes[i] ?? 0;
    otherObjects += s.sites.objects[i] ?? 0;
  }
  return {
    ...s,
    strings,
    sites: { function: fn, file, line, bytes, objects },
    other: { sites: s.other.sites + (s.sites.bytes.length - keep), bytes: otherBytes, objects: otherObjects },
  };
}
