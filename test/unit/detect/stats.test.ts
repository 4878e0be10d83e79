import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalCdf, normalQuantile, normalUpperTail } from "../../../src/detect/stats/normal.ts";
import { averageRanks, median, selectKth } from "../../../src/detect/stats/order.ts";
import { huberRegression } from "../../../src/detect/stats/robust-regression.ts";
import { fitTrend, quickGrowthP } from "../../../src/detect/stats/trend-fit.ts";
import { HOUR, noise } from "./series.ts";

const times = (n: number, stepMs = 180_000): number[] => Array.from({ length: n }, (_, i) => i * stepMs);

describe("normal distribution", () => {
  it("matches known quantiles and tails", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 5);
    expect(normalQuantile(0.95)).toBeCloseTo(1.644854, 5);
    expect(normalUpperTail(6)).toBeGreaterThan(0);
    expect(normalUpperTail(6)).toBeLessThan(1e-8);
  });
});

describe("order statistics", () => {
  it("selectKth agrees with sorting", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 60 }),
        fc.nat(),
        (values, k) => {
          const index = k % values.length;
          const sorted = [...values].sort((a, b) => a - b);
          expect(selectKth(Float64Array.from(values), index, 0, values.length)).toBe(sorted[index]);
        },
      ),
    );
  });

  it("median handles odd, even and empty inputs", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it("average ranks share ties", () => {
    expect(Array.from(averageRanks([10, 20, 10, 30]))).toEqual([1.5, 3, 1.5, 4]);
  });
});

describe("fitTrend (Theil–Sen + Mann–Kendall with Hamed–Rao)", () => {
  it("recovers an exact line", () => {
    const t = times(40);
    const y = t.map((ms) => 1000 + 500 * (ms / HOUR));
    const fit = fitTrend(t, y, 0, t.length, 0.9);
    expect(fit.slopePerHour).toBeCloseTo(500, 6);
    expect(fit.tau).toBe(1);
    expect(fit.pGrowth).toBeLessThan(1e-6);
    expect(fit.level).toBeCloseTo(y[y.length - 1] ?? 0, 6);
  });

  it("is not moved by one huge outlier", () => {
    const t = times(40);
    const y = t.map((ms) => 1000 + 100 * (ms / HOUR));
    const spiked = [...y];
    spiked[20] = 1e9;
    expect(fitTrend(t, spiked, 0, t.length, 0.9).slopePerHour).toBeCloseTo(100, 0);
  });

  it("puts the true slope inside the interval and finds no trend in noise", () => {
    const rand = noise(7);
    const t = times(40);
    const y = t.map((ms) => 1000 + 50 * (ms / HOUR) + 20 * rand());
    const fit = fitTrend(t, y, 0, t.length, 0.9);
    expect(fit.slopeLowPerHour).toBeLessThanOrEqual(50);
    expect(fit.slopeHighPerHour).toBeGreaterThanOrEqual(50);
    const flat = t.map(() => 1000 + 20 * rand());
    expect(fitTrend(t, flat, 0, t.length, 0.9).pGrowth).toBeGreaterThan(0.01);
  });

  it("corrects for autocorrelation: a slow wave is not a trend", () => {
    const t = times(40);
    const wave = t.map((_, i) => 1000 + 100 * Math.sin((2 * Math.PI * i) / 13));
    const fit = fitTrend(t, wave, 0, t.length, 0.9);
    expect(fit.autocorrelationFactor).toBeGreaterThanOrEqual(1);
    expect(fit.pGrowth).toBeGreaterThan(0.01);
  });

  it("quickGrowthP is never more conservative than the corrected test", () => {
    const rand = noise(3);
    const t = times(30);
    const y = t.map((ms) => 1000 + 30 * (ms / HOUR) + 10 * rand());
    expect(quickGrowthP(y, 0, y.length)).toBeLessThanOrEqual(
      fitTrend(t, y, 0, t.length, 0.9).pGrowth + 1e-12,
    );
  });
});

describe("huberRegression", () => {
  it("fits a line and shrugs off an outlier", () => {
    const rows = Array.from({ length: 50 }, (_, i) => Float64Array.from([1, i]));
    const y = Float64Array.from({ length: 50 }, (_, i) => 3 + 2 * i + (i === 25 ? 500 : 0));
    const fit = huberRegression(rows, y);
    expect(fit).not.toBeNull();
    expect(fit?.coefficients[1]).toBeCloseTo(2, 1);
  });

  it("returns null for a singular design", () => {
    const rows = Array.from({ length: 20 }, () => Float64Array.from([1, 1]));
    expect(huberRegression(rows, new Float64Array(20))).toBeNull();
  });
});
