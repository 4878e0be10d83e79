import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeProfileBytes,
  diffHeap,
  inuseBytes,
  packHeapSummary,
  summarizeHeap,
  truncateHeapSummary,
  unpackHeapSummary,
  type HeapSummary,
} from "../../../src/profile/index.ts";
import { FIXTURES } from "./helpers/go.ts";

const summarize = (name: string): HeapSummary =>
  summarizeHeap(decodeProfileBytes(readFileSync(path.join(FIXTURES, name)), { stacks: "leaf" }), {
    maxSites: Infinity,
  });

/** Diffs of `base` against `next` in every form a report can ask for, as JSON text. */
function diffs(base: HeapSummary, next: HeapSummary): string[] {
  return (["line", "function"] as const).flatMap((by) =>
    [3, 10, 100].map((top) => JSON.stringify(diffHeap(base, next, { by, top }))),
  );
}

const withoutTotals = ({ totals: _totals, ...rest }: HeapSummary): Omit<HeapSummary, "totals"> => rest;

describe("packHeapSummary", () => {
  const base = summarize("go-heap-base.pb.gz");
  const next = summarize("go-heap.pb.gz");

  it("unpacks to the truncated summary, and diffs byte for byte like it", () => {
    for (const s of [base, next, summarize("single-type.pb.gz"), summarize("unsymbolized.pb.gz")]) {
      for (const maxSites of [0, 1, 5, 48, 200, Infinity]) {
        const truncated = truncateHeapSummary(s, maxSites);
        const unpacked = unpackHeapSummary(packHeapSummary(s, maxSites));
        expect(withoutTotals(unpacked)).toEqual(withoutTotals(truncated));
        expect(inuseBytes(unpacked)).toBe(inuseBytes(s));
        expect(diffs(unpacked, next)).toEqual(diffs(truncated, next));
        expect(diffs(unpacked, base)).toEqual(diffs(truncated, base));
      }
    }
  });

  it("keeps the names once: interned, and shared with a table that holds them all", () => {
    const seen: string[] = [];
    const first = packHeapSummary(next, 48, { intern: (t) => (seen.push(t), t) });
    expect(seen).toEqual(first.strings);
    const again = packHeapSummary(next, 20, { strings: first.strings });
    expect(again.strings).toBe(first.strings);
    expect(diffs(unpackHeapSummary(again), base)).toEqual(diffs(truncateHeapSummary(next, 20), base));
    const other = packHeapSummary(base, 48, { strings: packHeapSummary(next, 2).strings });
    expect(unpackHeapSummary(other).strings).toEqual(truncateHeapSummary(base, 48).strings);
  });

  it("keeps lines that do not fit 32 bits, and tables too big for 16-bit refs", () => {
    const n = 40_000;
    const strings = Array.from({ length: 2 * n }, (_, i) => `name${i}`);
    const wide: HeapSummary = {
      ...next,
      strings,
      sites: {
        function: Array.from({ length: n }, (_, i) => 2 * i),
        file: Array.from({ length: n }, (_, i) => 2 * i + 1),
        line: Array.from({ length: n }, (_, i) => [2 ** 32 + i, -i, i + 0.5][i % 3] ?? 0),
        bytes: Array.from({ length: n }, (_, i) => 2 ** 53 - i),
        objects: Array.from({ length: n }, (_, i) => i),
      },
    };
    const unpacked = unpackHeapSummary(packHeapSummary(wide, Infinity));
    expect(withoutTotals(unpacked)).toEqual(withoutTotals(truncateHeapSummary(wide, Infinity)));
  });

  it("holds counts that fit in 32 bits at half the width of those that do not", () => {
    const packed = packHeapSummary(next, 48);
    const n = Math.min(48, next.sites.bytes.length);
    const big = { ...next, sites: { ...next.sites, bytes: next.sites.bytes.map((b) => b + 2 ** 32) } };
    expect(packHeapSummary(big, 48).data.byteLength - packed.data.byteLength).toBe(8 * n);
    expect(unpackHeapSummary(packHeapSummary(big, 48)).sites.bytes).toEqual(
      truncateHeapSummary(big, 48).sites.bytes,
    );
  });

  it("diffs like the truncated summary for any summary", () => {
    const name = fc.constantFrom("a", "b", "main.f", "/src/x.go", "");
    const site = fc.record({
      fn: fc.nat(5),
      file: fc.nat(5),
      line: fc.oneof(fc.nat(100), fc.integer({ min: -5, max: 2 ** 40 })),
      bytes: fc.oneof(fc.nat(1 << 20), fc.maxSafeNat()),
      objects: fc.nat(1000),
    });
    const summary = fc
      .record({
        strings: fc.array(name, { minLength: 6, maxLength: 6 }),
        sites: fc.uniqueArray(site, { selector: (s) => `${s.fn}:${s.file}:${s.line}`, maxLength: 30 }),
        other: fc.record({ sites: fc.nat(9), bytes: fc.nat(1 << 20), objects: fc.nat(99) }),
        inuse: fc.nat(1 << 30),
      })
      .map((x): HeapSummary => ({
        ...next,
        totals: { space: x.inuse },
        strings: x.strings,
        sites: {
          function: x.sites.map((s) => s.fn),
          file: x.sites.map((s) => s.file),
          line: x.sites.map((s) => s.line),
          bytes: x.sites.map((s) => s.bytes),
          objects: x.sites.map((s) => s.objects),
        },
        other: x.other,
      }));
    fc.assert(
      fc.property(summary, summary, fc.nat(40), (a, b, maxSites) => {
        const shared = packHeapSummary(b, 30).strings;
        for (const packed of [
          packHeapSummary(a, maxSites),
          packHeapSummary(a, maxSites, { strings: shared }),
        ]) {
          const unpacked = unpackHeapSummary(packed);
          expect(inuseBytes(unpacked)).toBe(inuseBytes(a));
          expect(diffs(unpacked, b)).toEqual(diffs(truncateHeapSummary(a, maxSites), b));
        }
      }),
    );
  });
});
