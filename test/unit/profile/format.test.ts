import { describe, expect, it } from "vitest";
import { formatBytes, formatRelative, formatSignedBytes } from "../../../src/profile/index.ts";
import { formatPercent } from "../../../src/profile/format.ts";

describe("formatting", () => {
  it("bytes in IEC units with three significant digits", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(38.2 * 1024 * 1024)).toBe("38.2 MiB");
    expect(formatBytes(300 * 1024 ** 3)).toBe("300 GiB");
    expect(formatSignedBytes(2048)).toBe("+2.00 KiB");
    expect(formatSignedBytes(-2048)).toBe("-2.00 KiB");
  });

  it("relative changes", () => {
    expect(formatRelative(0.61)).toBe("+61%");
    expect(formatRelative(0.061)).toBe("+6.1%");
    expect(formatRelative(-0.5)).toBe("-50%");
    expect(formatRelative(0)).toBe("+0%");
  });

  it("percentages the way pprof prints them", () => {
    expect(formatPercent(8543, 10000)).toBe("85.43%");
    expect(formatPercent(1, 1)).toBe("  100%");
    expect(formatPercent(65, 1_000_000)).toBe("0.0065%");
    expect(formatPercent(5, 1_000_000)).toBe("0.0005%");
    expect(formatPercent(1, 100_000_000)).toBe("1e-06%");
    expect(formatPercent(-50, 100)).toBe("50.00%");
    expect(formatPercent(0, 100)).toBe("    0%");
    expect(formatPercent(1, 0)).toBe("    0%");
  });
});
