import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { GoroutineSummary, HeapSummary } from "../../../src/profile/index.ts";
import {
  decodeProfileBytes,
  diffGoroutines,
  diffHeap,
  renderHeapDiffText,
  summarizeGoroutines,
  summarizeHeap,
} from "../../../src/profile/index.ts";
import { FIXTURES } from "./helpers/go.ts";
import { buildProfile } from "./helpers/synthetic.ts";

const MiB = 1 << 20;
const put = { fn: "main.(*cache).put", file: "/src/app/cache.go", line: 42 };
const load = { fn: "main.load", file: "/src/app/load.go", line: 7 };
const main = { fn: "main.main", file: "/src/app/main.go", line: 3 };

function heap(sites: readonly [typeof put, number][]): HeapSummary {
  const gz = buildProfile(
    [
      ["inuse_objects", "count"],
      ["inuse_space", "bytes"],
    ],
    sites.map(([site, bytes]) => ({ stack: [site, main], values: [Math.round(bytes / 1024), bytes] })),
  );
  return summarizeHeap(decodeProfileBytes(gz));
}

describe("diffHeap", () => {
  it("ranks sites by growth of in-use bytes with a one-line headline", () => {
    const was = Math.round(62.6 * MiB);
    const grew = Math.round(38.2 * MiB);
    const base = heap([
      [put, was],
      [load, 10 * MiB],
    ]);
    const next = heap([
      [put, was + grew],
      [load, 11 * MiB],
    ]);
    const d = diffHeap(base, next);
    expect(d.headline).toBe("main.(*cache).put (cache.go:42) +38.2 MiB in-use (+61%)");
    expect(d.rows.map((r) => [r.function, r.deltaBytes])).toEqual([
      ["main.(*cache).put", grew],
      ["main.load", 1 * MiB],
    ]);
    expect(d.rows[0]).toMatchObject({ baseBytes: was, inBase: true, deltaObjects: 39117 });
    expect(d.rows[0]?.relative).toBeCloseTo(38.2 / 62.6);
    expect(d.inuseBytes).toMatchObject({ base: was + 10 * MiB, new: was + grew + 11 * MiB });
    expect(renderHeapDiffText(d)).toContain(
      "+38.2 MiB    +61%   62.6 MiB    101 MiB  main.(*cache).put (cache.go:42)",
    );
  });

  it("marks sites that are new, and leaves out sites that shrank", () => {
    const d = diffHeap(
      heap([[load, 10 * MiB]]),
      heap([
        [load, 5 * MiB],
        [put, 2 * MiB],
      ]),
    );
    expect(d.rows).toHaveLength(1);
    expect(d.rows[0]).toMatchObject({ function: "main.(*cache).put", inBase: false, relative: null });
    expect(d.headline).toBe("main.(*cache).put (cache.go:42) +2.00 MiB in-use (not in base)");
  });

  it("says so when nothing grew", () => {
    const d = diffHeap(heap([[load, 10 * MiB]]), heap([[load, 9 * MiB]]));
    expect(d.rows).toEqual([]);
    expect(d.headline).toBe("no allocation site grew (in-use -1.00 MiB in total)");
  });

  it("rolls lines up to functions when asked, and limits the rows", () => {
    const put2 = { ...put, line: 50 };
    const d = diffHeap(
      heap([
        [put, MiB],
        [put2, MiB],
      ]),
      heap([
        [put, 2 * MiB],
        [put2, 3 * MiB],
        [load, MiB],
      ]),
      {
        by: "function",
        top: 1,
      },
    );
    expect(d.rows).toEqual([
      expect.objectContaining({ function: "main.(*cache).put", file: "", line: 0, deltaBytes: 3 * MiB }),
    ]);
    expect(d.headline).toBe("main.(*cache).put +3.00 MiB in-use (+150%)");
  });

  it("works on real Go profiles through their bounded summaries", () => {
    const s = (name: string) => summarizeHeap(decodeProfileBytes(readFileSync(path.join(FIXTURES, name))));
    const d = diffHeap(s("go-heap-base.pb.gz"), s("go-heap.pb.gz"));
    expect(d.headline).toMatch(/^main\.\(\*cache\)\.put \(main\.go:20\) \+1\.\d\d MiB in-use \(\+\d+%\)$/);
  });
});

describe("diffGoroutines", () => {
  const g = (name: string): GoroutineSummary =>
    summarizeGoroutines(decodeProfileBytes(readFileSync(path.join(FIXTURES, name))));

  it("ranks blocking sites by goroutine growth", () => {
    const real = g("go-goroutine.pb.gz");
    const fewer: GoroutineSummary = {
      ...real,
      total: real.total - 88,
      groups: { ...real.groups, count: real.groups.count.map((c, i) => (i === 0 ? c - 88 : c)) },
    };
    const d = diffGoroutines(fewer, real);
    expect(d.headline).toBe("main.worker (main.go:27) +88 goroutines in chan receive (+733%)");
    expect(d.rows).toHaveLength(1);
    expect(d.total.delta).toBe(88);
    expect(diffGoroutines(real, real).headline).toBe("no blocking site gained goroutines (+0 in total)");
  });
});
