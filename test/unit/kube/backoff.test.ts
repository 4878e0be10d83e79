import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { backoffDelay, backoffWindow, jittered, validateBackoff } from "../../../src/kube/backoff.ts";

const options = { initialMs: 1_000, maxMs: 30_000 };

describe("backoff", () => {
  it("doubles the window per attempt and caps it", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 100].map((a) => backoffWindow(a, options))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it("full jitter stays within [0, window), equal jitter within [window/2, window]", () => {
    fc.assert(
      fc.property(fc.nat(60), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const window = backoffWindow(attempt, options);
        const full = backoffDelay(attempt, options, () => r, "full");
        const equal = backoffDelay(attempt, options, () => r, "equal");
        expect(full).toBeGreaterThanOrEqual(0);
        expect(full).toBeLessThan(window);
        expect(equal).toBeGreaterThanOrEqual(window / 2);
        expect(equal).toBeLessThanOrEqual(window);
      }),
    );
  });

  it("jitters a period by at most the given fraction", () => {
    expect(jittered(600_000, 0.1, () => 0)).toBe(540_000);
    expect(jittered(600_000, 0.1, () => 1)).toBe(660_000);
    expect(jittered(600_000, 0.1, () => 0.5)).toBe(600_000);
  });

  it("refuses settings that cannot work", () => {
    expect(() => {
      validateBackoff({ initialMs: 0, maxMs: 10 }, "x");
    }).toThrow(RangeError);
    expect(() => {
      validateBackoff({ initialMs: 10, maxMs: 5 }, "x");
    }).toThrow(/initialMs <= maxMs/);
    expect(() => {
      validateBackoff(options, "x");
    }).not.toThrow();
  });
});
