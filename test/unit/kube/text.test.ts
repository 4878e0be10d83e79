import { describe, expect, it } from "vitest";
import { truncateUtf8 } from "../../../src/kube/events.ts";
import { formatMicroTime, formatTime } from "../../../src/kube/text.ts";

const bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/** Decoding must not produce U+FFFD: a cut never lands inside a character. */
const wellFormed = (s: string): boolean => !s.includes("\uFFFD") && s.isWellFormed();

describe("truncateUtf8", () => {
  it("leaves text within the limit untouched", () => {
    expect(truncateUtf8("héllo", 6)).toBe("héllo");
    expect(truncateUtf8("", 0)).toBe("");
  });

  it("cuts ASCII to exactly the limit, ellipsis included", () => {
    const out = truncateUtf8("a".repeat(2000), 1024);
    expect(bytes(out)).toBe(1024);
    expect(out.endsWith("…")).toBe(true);
  });

  it.each([
    ["two-byte", "é"],
    ["three-byte", "漏"],
    ["four-byte (surrogate pair)", "🧠"],
  ])("never splits a %s character, whatever the limit", (_, char) => {
    const text = `x${char.repeat(600)}`;
    for (let max = 0; max <= 40; max++) {
      const out = truncateUtf8(text, max);
      expect(bytes(out)).toBeLessThanOrEqual(max);
      expect(wellFormed(out)).toBe(true);
      if (max >= 3) expect(out.endsWith("…")).toBe(true);
      // As much as fits: the next character of the text would not have.
      const room = max >= 3 ? max - 3 : max;
      const body = max >= 3 ? out.slice(0, -1) : out;
      const nextChar = body === "" ? "x" : char;
      expect(bytes(body) + bytes(nextChar)).toBeGreaterThan(room);
    }
  });

  it("counts bytes, not characters: 1024 three-byte characters are cut", () => {
    const note = "漏".repeat(1024);
    const out = truncateUtf8(note, 1024);
    expect(bytes(out)).toBeLessThanOrEqual(1024);
    expect(out).toBe(`${"漏".repeat(340)}…`);
  });

  it("supports a custom (or empty) marker", () => {
    expect(truncateUtf8("abcdef", 4, "")).toBe("abcd");
    expect(truncateUtf8("abcdefgh", 6, "[..]")).toBe("ab[..]");
  });
});

describe("time formats", () => {
  it("MicroTime has six fractional digits", () => {
    expect(formatMicroTime(Date.UTC(2025, 0, 2, 3, 4, 5, 678))).toBe("2025-01-02T03:04:05.678000Z");
    expect(formatMicroTime(Date.UTC(2025, 0, 2, 3, 4, 5, 678) + 0.25)).toBe("2025-01-02T03:04:05.678250Z");
  });

  it("Time is to the second", () => {
    expect(formatTime(Date.UTC(2025, 11, 31, 23, 59, 59, 999))).toBe("2025-12-31T23:59:59Z");
  });
});
