import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  decodeProfileBytes,
  effectiveSamplingBytes,
  heapSites,
  InvalidSummaryError,
  inuseBytes,
  MissingSampleTypeError,
  parseHeapSummary,
  summarizeHeap,
  topTable,
} from "../../../src/profile/index.ts";
import { FIXTURES } from "./helpers/go.ts";
import { buildProfile } from "./helpers/synthetic.ts";

const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));
const summarize = (name: string, maxSites?: number) =>
  summarizeHeap(decodeProfileBytes(fixture(name), { stacks: "leaf" }), { maxSites });

describe("summarizeHeap", () => {
  it("finds the leaking line of a real Go heap profile, with totals per sample type", () => {
    const s = summarize("go-heap.pb.gz");
    const top = heapSites(s)[0];
    // 2600 entries of 1 KiB, plus the slice that holds them (append on the same line).
    expect(top).toMatchObject({ function: "main.(*cache).put", line: 20 });
    expect(top?.bytes).toBeGreaterThanOrEqual(2600 * 1024);
    expect(top?.bytes).toBeLessThan(2600 * 1024 + 128 * 1024);
    expect(top?.objects).toBeGreaterThanOrEqual(2600);
    expect(top?.file).toMatch(/heapgen\/main\.go$/);
    expect(Object.keys(s.totals)).toEqual(["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"]);
    expect(s.symbolized).toBe(true);
    expect(s.hasObjects).toBe(true);
    expect(inuseBytes(s)).toBe(s.totals.inuse_space);
  });

  it("skips samples with nothing in use (Go keeps freed sites with zeros)", () => {
    const s = summarize("go-heap.pb.gz", Infinity);
    const sites = heapSites(s);
    expect(sites.every((site) => site.bytes !== 0 || site.objects !== 0)).toBe(true);
    expect(sites.some((site) => site.function === "main.churn")).toBe(false); // all freed
    expect(sites.reduce((sum, site) => sum + site.bytes, 0)).toBe(s.totals.inuse_space);
  });

  it("reads Node's @datadog/pprof order (objects, space) by name, not by position", () => {
    const s = summarize("node-heap.pb.gz");
    expect(heapSites(s)).toEqual([
      { function: "cacheResponse", file: "/app/cache.js", line: 17, bytes: 3_000_000, objects: 300 },
      { function: "parseBody", file: "/app/body.js", line: 9, bytes: 40_960, objects: 20 },
    ]);
    expect(inuseBytes(s)).toBe(3_040_960);
  });

  it("reads Go's names in any order too", () => {
    const site = { fn: "main.leak", file: "leak.go", line: 3 };
    const gz = buildProfile(
      [
        ["inuse_objects", "count"],
        ["inuse_space", "bytes"],
      ],
      [{ stack: [site], values: [4, 4096] }],
    );
    expect(heapSites(summarizeHeap(decodeProfileBytes(gz)))).toEqual([
      { function: "main.leak", file: "leak.go", line: 3, bytes: 4096, objects: 4 },
    ]);
  });

  it("accepts a profile with in-use bytes only", () => {
    const s = summarize("single-type.pb.gz");
    expect(s.hasObjects).toBe(false);
    expect(s.totals).toEqual({ inuse_space: (1 << 20) + 4096 });
    expect(heapSites(s).map((x) => [x.function, x.bytes, x.objects])).toEqual([
      ["alloc::grow", 1 << 20, 0],
      ["app::load", 4096, 0],
    ]);
  });

  it("names unsymbolized sites by address and says the profile is unsymbolized", () => {
    const s = summarize("unsymbolized.pb.gz");
    expect(s.symbolized).toBe(false);
    const sites = heapSites(s);
    expect(sites[0]?.function).toMatch(/^0x[0-9a-f]+$/);
    expect(sites[0]?.file).toBe("");
    // Same numbers as the symbolized profile it was made from; sites are per address now.
    const symbolized = summarize("go-heap.pb.gz", Infinity);
    const sum = (x: typeof s): number => heapSites(x).reduce((a, site) => a + site.bytes, x.other.bytes);
    expect(s.totals).toEqual(symbolized.totals);
    expect(sum(s)).toBe(sum(symbolized));
    expect(topTable(decodeProfileBytes(fixture("unsymbolized.pb.gz"))).symbolized).toBe(false);
  });

  it("keeps the biggest sites and folds the rest into other", () => {
    const all = summarize("go-heap.pb.gz", Infinity);
    const five = summarize("go-heap.pb.gz", 5);
    expect(heapSites(five)).toEqual(heapSites(all).slice(0, 5));
    const rest = heapSites(all).slice(5);
    expect(five.other).toEqual({
      sites: rest.length,
      bytes: rest.reduce((a, s) => a + s.bytes, 0),
      objects: rest.reduce((a, s) => a + s.objects, 0),
    });
    expect(five.totals).toEqual(all.totals);
  });

  it("merges locations of the same line, and sorts ties by name", () => {
    const gz = buildProfile(
      [["inuse_space", "bytes"]],
      [
        { stack: [{ fn: "b", file: "x.go", line: 1 }], values: [10] },
        { stack: [{ fn: "a", file: "x.go", line: 1 }], values: [10] },
        {
          stack: [
            { fn: "b", file: "x.go", line: 1 },
            { fn: "main", file: "x.go", line: 9 },
          ],
          values: [5],
        },
      ],
    );
    expect(heapSites(summarizeHeap(decodeProfileBytes(gz))).map((s) => [s.function, s.bytes])).toEqual([
      ["b", 15],
      ["a", 10],
    ]);
  });

  it("orders many tied sites by objects, name, file and line, and keeps the first of them", () => {
    // 300 sites with only a few distinct values: the cut falls inside a run of ties.
    const sites = Array.from({ length: 300 }, (_, i) => ({
      fn: `main.f${(i * 7919) % 97}`,
      file: i % 3 === 0 ? "a.go" : "b.go",
      line: (i * 31) % 11,
      bytes: 16 * (1 + (i % 4)),
      objects: 1 + (i % 2),
    }));
    const unique = new Map(sites.map((x) => [`${x.fn}\0${x.file}\0${x.line}`, x]));
    const gz = buildProfile(
      [
        ["inuse_objects", "count"],
        ["inuse_space", "bytes"],
      ],
      [...unique.values()].map((x) => ({ stack: [x], values: [x.objects, x.bytes] })),
    );
    const expected = [...unique.values()]
      .map((x) => ({ function: x.fn, file: x.file, line: x.line, bytes: x.bytes, objects: x.objects }))
      .sort(
        (a, b) =>
          b.bytes - a.bytes ||
          b.objects - a.objects ||
          (a.function < b.function ? -1 : a.function > b.function ? 1 : 0) ||
          (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
          a.line - b.line,
      );
    const profile = decodeProfileBytes(gz, { stacks: "leaf" });
    for (const maxSites of [1, 25, 61, 200, Infinity]) {
      const s = summarizeHeap(profile, { maxSites });
      expect(heapSites(s)).toEqual(expected.slice(0, maxSites));
      expect(s.other.sites).toBe(expected.length - Math.min(maxSites, expected.length));
    }
  });

  it("needs in-use bytes", () => {
    const cpu = buildProfile(
      [
        ["samples", "count"],
        ["cpu", "nanoseconds"],
      ],
      [{ stack: [{ fn: "main.spin", file: "spin.go", line: 4 }], values: [1, 10_000_000] }],
    );
    expect(() => summarizeHeap(decodeProfileBytes(cpu))).toThrow(MissingSampleTypeError);
    expect(() => summarizeHeap(decodeProfileBytes(cpu))).toThrow(/it has: samples, cpu/);
  });

  it("round-trips through JSON, compactly", () => {
    const s = summarize("go-heap.pb.gz");
    const json = JSON.stringify(s);
    expect(parseHeapSummary(json)).toEqual(s);
    expect(parseHeapSummary(JSON.parse(json))).toEqual(s);
    // ~60 bytes per site plus its strings (paths dominate): well under 100 bytes per site here.
    expect(json.length / s.sites.bytes.length).toBeLessThan(100);
  });

  it("rejects persisted summaries of the wrong shape", () => {
    const good = JSON.parse(JSON.stringify(summarize("go-heap.pb.gz"))) as Record<string, unknown>;
    const bad: unknown[] = [
      "not json",
      null,
      { ...good, kind: "goroutine" },
      { ...good, version: 2 },
      { ...good, strings: [1] },
      { ...good, sites: { ...(good.sites as object), function: [999] } },
      { ...good, sites: { ...(good.sites as object), bytes: ["1"] } },
      { ...good, totals: { inuse_space: "x" } },
      { ...good, sites: { function: [0, 0], file: [1, 1], line: [3, 3], bytes: [1, 2], objects: [1, 1] } },
    ];
    for (const b of bad) expect(() => parseHeapSummary(b)).toThrow(InvalidSummaryError);
  });
});

describe("effectiveSamplingBytes", () => {
  const R = 512 * 1024;
  const goHeap = () => decodeProfileBytes(fixture("go-heap.pb.gz"), { stacks: "leaf" });

  it("is next to nothing when every allocation is recorded (this fixture was written at rate 1)", () => {
    const p = goHeap();
    expect(p.period).toBe(1);
    expect(effectiveSamplingBytes(p)).toBeLessThan(1e-3);
  });

  it("is about the period for small objects, and far below it for objects well above it", () => {
    const small = { ...goHeap(), period: R }; // ~1 KiB cache entries
    expect(effectiveSamplingBytes(small)).toBeGreaterThan(0.9 * R);
    expect(effectiveSamplingBytes(small)).toBeLessThanOrEqual(R);
    const p = goHeap();
    const k = p.sampleTypes.length;
    const space = p.sampleTypes.findIndex((t) => t.type === "inuse_space");
    const objects = p.sampleTypes.findIndex((t) => t.type === "inuse_objects");
    const values = new Float64Array(k);
    values[space] = 4 * 4 * 1024 * 1024; // four objects of 4 MiB: each recorded with chance 1 − e^-8
    values[objects] = 4;
    const large = { ...p, period: R, sampleCount: 1, values };
    expect(effectiveSamplingBytes(large)).toBeLessThan(0.01 * R);
  });

  it("is undefined when the profile does not sample by size", () => {
    const p = decodeProfileBytes(fixture("node-heap.pb.gz"), { stacks: "leaf" });
    expect(effectiveSamplingBytes(p)).toBeUndefined();
  });
});
