// LeakWatch's numbers against `go tool pprof`'s on real Go heap profiles: the committed
// fixture and profiles generated now by a Go program (built into ~/.cache/leakwatch/test-bin).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Granularity } from "../../../src/profile/index.ts";
import {
  decodeProfileBytes,
  diffHeap,
  heapSites,
  summarizeHeap,
  topTable,
} from "../../../src/profile/index.ts";
import type { PprofTop } from "./helpers/go.ts";
import { buildGo, FIXTURES, pprofTop } from "./helpers/go.ts";

let dir = "";
const files = { base: "", new: "" };

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "lw-reference-"));
  execFileSync(buildGo("heapgen"), ["-out", dir, "-spread", "5000"]);
  files.base = path.join(dir, "base.pb.gz");
  files.new = path.join(dir, "new.pb.gz");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const load = (file: string) => decodeProfileBytes(readFileSync(file), { stacks: "full" });

function expectSameTable(file: string, by: Granularity, sampleIndex: string, base?: string): void {
  const reference = pprofTop(file, {
    sampleIndex,
    lines: by === "line",
    base,
    bytes: sampleIndex.endsWith("space"),
  });
  const ours = topTable(
    load(file),
    { sampleType: sampleIndex, by },
    base === undefined ? undefined : load(base),
  );
  expect(ours.total).toBe(reference.total);
  expect(ours.rows.map((r) => ({ name: r.name, flat: r.flat, cum: r.cum, inline: r.inline }))).toEqual(
    reference.rows,
  );
}

describe.each([
  [
    "the committed fixture",
    () => path.join(FIXTURES, "go-heap.pb.gz"),
    () => path.join(FIXTURES, "go-heap-base.pb.gz"),
  ],
  ["a profile generated now", () => files.new, () => files.base],
])("against go tool pprof: %s", (_, newFile, baseFile) => {
  it.each(["function", "line"] as const)("-top by %s: same rows, order, values and total", (by) => {
    expectSameTable(newFile(), by, "inuse_space");
    expectSameTable(newFile(), by, "alloc_objects");
  });

  it.each(["function", "line"] as const)("-top -base by %s: same rows, order, values and total", (by) => {
    expectSameTable(newFile(), by, "inuse_space", baseFile());
  });

  it("heap summary: every site's in-use bytes and objects are pprof's flat values by line", () => {
    const summary = summarizeHeap(decodeProfileBytes(readFileSync(newFile())), { maxSites: Infinity });
    const flatByLine = (t: PprofTop): Map<string, number> =>
      new Map(t.rows.filter((r) => r.flat !== 0).map((r) => [r.name, r.flat]));
    const bytes = flatByLine(pprofTop(newFile(), { sampleIndex: "inuse_space", lines: true }));
    const objects = flatByLine(
      pprofTop(newFile(), { sampleIndex: "inuse_objects", lines: true, bytes: false }),
    );
    const sites = heapSites(summary);
    const name = (s: { function: string; file: string; line: number }): string =>
      `${s.function} ${s.file}:${s.line}`;
    expect(new Map(sites.filter((s) => s.bytes !== 0).map((s) => [name(s), s.bytes]))).toEqual(bytes);
    expect(new Map(sites.filter((s) => s.objects !== 0).map((s) => [name(s), s.objects]))).toEqual(objects);
    expect(summary.other.sites).toBe(0);
    for (const type of ["inuse_space", "inuse_objects", "alloc_space", "alloc_objects"]) {
      expect(summary.totals[type]).toBe(
        pprofTop(newFile(), { sampleIndex: type, bytes: type.endsWith("space") }).total,
      );
    }
  });

  it("diff of summaries: growth per line is pprof -base's positive flat values", () => {
    const all = { maxSites: Infinity };
    const d = diffHeap(
      summarizeHeap(decodeProfileBytes(readFileSync(baseFile())), all),
      summarizeHeap(decodeProfileBytes(readFileSync(newFile())), all),
      { by: "line", top: Infinity },
    );
    const reference = pprofTop(newFile(), { sampleIndex: "inuse_space", lines: true, base: baseFile() });
    const grown = reference.rows.filter((r) => r.flat > 0);
    expect(d.rows.map((r) => [`${r.function} ${r.file}:${r.line}`, r.deltaBytes])).toEqual(
      expect.arrayContaining(grown.map((r) => [r.name, r.flat])),
    );
    expect(d.rows).toHaveLength(grown.length);
    expect(d.rows[0]?.function).toBe("main.(*cache).put");
    expect(d.headline).toMatch(/^main\.\(\*cache\)\.put \(main\.go:\d+\) \+1\.\d\d MiB in-use \(\+\d+%\)$/);
  });
});

describe("against go tool pprof: other profiles", () => {
  it("goroutine profile -top by function and line", () => {
    const file = path.join(FIXTURES, "go-goroutine.pb.gz");
    for (const by of ["function", "line"] as const) {
      const reference = pprofTop(file, { sampleIndex: "goroutine", lines: by === "line", bytes: false });
      const ours = topTable(load(file), { by });
      expect(ours.rows.map((r) => ({ name: r.name, flat: r.flat, cum: r.cum, inline: r.inline }))).toEqual(
        reference.rows,
      );
      expect(ours.total).toBe(reference.total);
    }
  });
});
