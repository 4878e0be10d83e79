import { describe, expect, it } from "vitest";
import { ageOf, humanAge, renderTable, truncate } from "../../../src/cli/table.ts";

describe("renderTable", () => {
  it("sizes columns to their widest cell, three spaces apart, without trailing blanks", () => {
    const out = renderTable(
      [
        { header: "NAME", cell: (r: { n: string; v: string }) => r.n },
        { header: "VALUE", cell: (r) => r.v },
        { header: "NOTE", cell: () => "" },
      ],
      [
        { n: "a", v: "1" },
        { n: "longer-name", v: "22" },
      ],
    );
    expect(out).toBe("NAME          VALUE   NOTE\na             1\nlonger-name   22\n");
  });

  it("drops columns that are off, counts characters not bytes, and keeps cells on one line", () => {
    const out = renderTable(
      [
        { header: "A", cell: (r: string) => r },
        { header: "HIDDEN", cell: () => "x", when: false },
        { header: "B", cell: () => "b" },
      ],
      ["µµ…", "line\nbreak\tand tab"],
    );
    expect(out).toBe("A                    B\nµµ…                  b\nline break and tab   b\n");
  });

  it("renders the header alone for no rows", () => {
    expect(renderTable([{ header: "NAME", cell: (r: string) => r }], [])).toBe("NAME\n");
  });
});

describe("truncate", () => {
  it("cuts with an ellipsis only when needed", () => {
    expect(truncate("abcdef", 6)).toBe("abcdef");
    expect(truncate("abcdefg", 6)).toBe("abcde…");
    expect(truncate("漏れ漏れ漏れ", 3)).toBe("漏れ…");
  });
});

describe("humanAge (kubectl's HumanDuration)", () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  it.each([
    [-5 * s, "<invalid>"],
    [-1 * s, "0s"],
    [0, "0s"],
    [45 * s, "45s"],
    [119 * s, "119s"],
    [2 * m, "2m"],
    [5 * m + 30 * s, "5m30s"],
    [10 * m, "10m"],
    [150 * m, "150m"],
    [3 * h, "3h"],
    [5 * h + 10 * m, "5h10m"],
    [20 * h, "20h"],
    [2 * d, "2d"],
    [3 * d + 4 * h, "3d4h"],
    [40 * d, "40d"],
    [2 * 365 * d + 30 * d, "2y30d"],
    [9 * 365 * d, "9y"],
  ])("%d ms → %s", (ms, text) => {
    expect(humanAge(ms)).toBe(text);
  });

  it("ages RFC 3339 times, and says ? for anything else", () => {
    const now = Date.parse("2026-05-01T12:00:00Z");
    expect(ageOf("2026-05-01T11:56:00Z", now)).toBe("4m");
    expect(ageOf("yesterday", now)).toBe("?");
    expect(ageOf(undefined, now)).toBe("?");
  });
});
