import { describe, expect, it } from "vitest";
import { AllocationRate } from "../../../src/controller/allocation-rate.ts";

const HOUR = 3_600_000;
const MIB = 1024 * 1024;

describe("AllocationRate", () => {
  it("is unknown until two profiles, then the bytes allocated per hour between them", () => {
    const rate = new AllocationRate();
    expect(rate.observe(0, 100 * MIB)).toBeUndefined();
    expect(rate.observe(HOUR / 60, 110 * MIB)).toBe(600 * MIB);
  });

  it("follows a rise at once and forgets a burst slowly", () => {
    const rate = new AllocationRate();
    rate.observe(0, 0);
    rate.observe(60_000, 10 * MIB); // 600 MiB/h
    expect(rate.observe(120_000, 30 * MIB)).toBe(1200 * MIB); // a rise counts at once
    const after = rate.observe(180_000, 30 * MIB) ?? 0; // nothing allocated this minute
    expect(after).toBeCloseTo(0.7 * 1200 * MIB);
  });

  it("starts over when the counter goes back (a new process) or after a reset, and ignores a missing total", () => {
    const rate = new AllocationRate();
    rate.observe(0, 50 * MIB);
    rate.observe(60_000, 60 * MIB);
    expect(rate.observe(120_000, 1 * MIB)).toBeUndefined();
    expect(rate.observe(180_000, undefined)).toBeUndefined();
    rate.observe(240_000, 2 * MIB);
    rate.reset();
    expect(rate.observe(300_000, 3 * MIB)).toBeUndefined();
  });
});
