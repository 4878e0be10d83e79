import { describe, expect, it } from "vitest";
import {
  formatDuration,
  parseDuration,
  parseQuantity,
  roundDuration,
  roundQuantity,
  SpecError,
} from "../../../src/api/index.ts";

describe("durations", () => {
  it.each([
    ["90s", 90_000],
    ["1h30m", 5_400_000],
    ["250ms", 250],
    ["1.5h", 5_400_000],
    ["0", 0],
  ])("parses %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "1d", "5", "1h 30m", "-1s", "1hh", "h"])(
    "refuses %j with a typed error naming the field",
    (text) => {
      expect(() => parseDuration(text, "spec.interval")).toThrow(SpecError);
      expect(() => parseDuration(text, "spec.interval")).toThrow(/spec\.interval/);
    },
  );

  it("formats for people and rounds for status", () => {
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(45_000)).toBe("45s");
    expect(formatDuration(3 * 86_400_000 + 3_600_000)).toBe("3d1h");
    expect(formatDuration(2 * 3_600_000)).toBe("2h");
    expect(roundDuration(3 * 3_600_000 + 600_000)).toBe("3h");
    expect(roundDuration(41 * 60_000)).toBe("40m");
    expect(roundDuration(5 * 86_400_000)).toBe("5d");
  });
});

describe("quantities", () => {
  it.each([
    ["512Mi", 512 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["1G", 1e9],
    ["1.5Ki", 1536],
    ["1048576", 1_048_576],
    [2048, 2048],
    ["1e3", 1000],
  ] as const)("parses %s", (text, bytes) => {
    expect(parseQuantity(text)).toBe(bytes);
  });

  it.each(["", "12XB", "-1Mi", "Mi", "1 Mi"])("refuses %j", (text) => {
    expect(() => parseQuantity(text, "spec.captures.maxBytes")).toThrow(SpecError);
  });

  it("rounds for status", () => {
    expect(roundQuantity(84.4 * 2 ** 20)).toBe("84Mi");
    expect(roundQuantity(1.26 * 2 ** 30)).toBe("1.3Gi");
  });
});
