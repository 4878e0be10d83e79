import { describe, expect, it } from "vitest";
import { formatSeriesCsv, parseSeriesCsv, SeriesCsvError } from "../../../src/detect/index.ts";

function errorOf(text: string): SeriesCsvError {
  try {
    parseSeriesCsv(text);
  } catch (err) {
    if (err instanceof SeriesCsvError) return err;
    throw err;
  }
  throw new Error("expected a SeriesCsvError");
}

describe("parseSeriesCsv", () => {
  it("reads the documented columns, optional cells and comments", () => {
    const samples = parseSeriesCsv(
      "# recorded\ntime,heap_inuse_bytes,goroutines,restart\n100,1000,5,0\n160,2000,,1\n\n220,3000,7,\n",
    );
    expect(samples).toEqual([
      { t: 100_000, heapInuseBytes: 1000, goroutines: 5 },
      { t: 160_000, heapInuseBytes: 2000, restart: true },
      { t: 220_000, heapInuseBytes: 3000, goroutines: 7 },
    ]);
  });

  it("accepts columns in any order and an oom_killed column", () => {
    const samples = parseSeriesCsv("heap_inuse_bytes,time,oom_killed\n5,1,0\n6,2,1\n");
    expect(samples[1]).toEqual({ t: 2000, heapInuseBytes: 6, restart: true, oomKilled: true });
  });

  it.each([
    ["time,heap_inuse_bytes\n1,100\n2,abc\n", 3, /heap_inuse_bytes "abc"/],
    ["time,heap_inuse_bytes\n1,100\n2\n", 3, /expected 2 fields, found 1/],
    ["time,heap_inuse_bytes\n5,100\n5,100\n", 3, /not after the previous/],
    ["time,heap_inuse_bytes,goroutines\n1,100,2.5\n", 2, /not a whole number/],
    ["time,heap_inuse_bytes\n1,-4\n", 2, /not a non-negative number/],
    ["time,heap_inuse_bytes,restart\n1,4,yes\n", 2, /must be 0 or 1/],
    ["time,heap\n", 1, /unknown column "heap"/],
    ["time,goroutines\n", 1, /missing column "heap_inuse_bytes"/],
    ["", 1, /empty file/],
  ])("rejects %j at line %i", (text, line, message) => {
    const err = errorOf(text);
    expect(err.code).toBe("LW_DETECT_CSV");
    expect(err.line).toBe(line);
    expect(err.message).toMatch(message);
  });

  it("round-trips through formatSeriesCsv", () => {
    const samples = [
      { t: 60_000, heapInuseBytes: 10, goroutines: 3 },
      { t: 120_000, heapInuseBytes: 11, restart: true, oomKilled: true },
    ];
    expect(parseSeriesCsv(formatSeriesCsv(samples))).toEqual(samples);
  });
});
