import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lastPointTime, packPoints, unpackPoints } from "../../../src/detect/packed-points.ts";
import type { PointSeries } from "../../../src/detect/points.ts";

const series = (t: number[], heap: number[], goroutines: (number | null)[]): PointSeries => ({
  t,
  heap,
  goroutines,
});

describe("packPoints", () => {
  it("gives back exactly the points it packed, whatever they are", () => {
    const value = fc.oneof(
      fc.nat(1 << 20),
      fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }),
      fc.maxSafeNat(),
      fc.double({ min: 0, max: 1e15, noNaN: true }),
    );
    const point = fc.record({ t: value, heap: value, goroutines: fc.option(value) });
    fc.assert(
      fc.property(fc.array(point, { maxLength: 40 }), (points) => {
        const p = series(
          points.map((x) => x.t),
          points.map((x) => x.heap),
          points.map((x) => x.goroutines),
        );
        const packed = packPoints(p);
        expect(unpackPoints(packed)).toEqual(p);
        expect(lastPointTime(packed)).toBe(p.t[p.t.length - 1]);
      }),
    );
  });

  it("takes 12 bytes a point when times, heaps and goroutine counts fit, 24 when they do not", () => {
    const t0 = 1_750_000_000_000;
    const t = Array.from({ length: 192 }, (_, i) => t0 + i * 900_000 + (i % 7));
    const heap = t.map((_, i) => 6_000_000_000 + i * 1_000);
    const goroutines = t.map((_, i) => (i % 5 === 0 ? null : 30 + i / 4));
    const narrow = packPoints(series(t, heap, goroutines));
    expect(narrow.words.byteLength).toBe(12 * 192);
    expect(unpackPoints(narrow)).toEqual(series(t, heap, goroutines));
    const wide = series(
      t,
      heap.map((h) => h + 0.5),
      goroutines,
    );
    expect(packPoints(wide).words.byteLength).toBe(24 * 192);
    expect(unpackPoints(packPoints(wide))).toEqual(wide);
    expect(packPoints(series([], [], [])).length).toBe(0);
  });
});
