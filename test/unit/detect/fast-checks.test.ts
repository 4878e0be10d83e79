import { describe, expect, it } from "vitest";
import { firstThirdRises } from "../../../src/detect/fast-checks.ts";
import { fitTrend } from "../../../src/detect/stats/trend-fit.ts";

const BLOCK = 3 * 60_000;

function view(levels: readonly number[]): { t: number[]; y: number[] } {
  return { t: levels.map((_, i) => i * BLOCK), y: [...levels] };
}

describe("firstThirdRises", () => {
  it("holds for steady growth and fails for a flat stretch followed by a climb", () => {
    const steady = view(Array.from({ length: 24 }, (_, i) => 100 + 5 * i + (i % 2)));
    expect(firstThirdRises(steady, 0, fitTrend(steady.t, steady.y, 0, 24, 0.9))).toBe(true);
    // Flat for the first 8 blocks, then stacked bursts lift it: the span overstates the growth's age.
    const late = view(Array.from({ length: 24 }, (_, i) => (i < 8 ? 100 + (i % 2) : 100 + 12 * (i - 8))));
    expect(firstThirdRises(late, 0, fitTrend(late.t, late.y, 0, 24, 0.9))).toBe(false);
  });

  it("leaves spans too short to fit to the other tests", () => {
    const short = view([100, 100, 100, 100, 100, 140, 180, 220, 260]);
    expect(firstThirdRises(short, 0, fitTrend(short.t, short.y, 0, 9, 0.9))).toBe(true);
  });
});
