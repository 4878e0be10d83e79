import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CaptureCorruptError, CaptureTooLargeError } from "../../../src/kube/capture-errors.ts";
import {
  PART_MAX_BYTES,
  assembleFiles,
  captureName,
  fitToLimit,
  parseManifest,
  planCapture,
  type CaptureFiles,
  type CaptureMeta,
  type CapturePlan,
} from "../../../src/kube/capture-layout.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KiB = 1024;

const meta: CaptureMeta = {
  leakWatch: { name: "checkout", uid: "uid-1" },
  namespace: "shop",
  pod: "checkout-7d9f8c6b5-x2k4p",
  createdAt: "2025-03-04T05:06:07.123Z",
  headline: "+48 MiB in main.leak",
  reason: "Leaking",
};

function files(heap: number, goroutine?: number, base?: number, report = "report"): CaptureFiles {
  return {
    "heap.pb.gz": randomBytes(heap),
    ...(goroutine === undefined ? {} : { "goroutine.pb.gz": randomBytes(goroutine) }),
    ...(base === undefined ? {} : { "base-heap.pb.gz": randomBytes(base) }),
    "report.txt": report,
    "report.json": JSON.stringify({ report }),
  };
}

/** What reading the parts back from the API server gives the store. */
function storedParts(plan: CapturePlan): Map<string, Map<string, Buffer>> {
  return new Map(plan.parts.map((p) => [p.name, new Map([...p.data].map(([k, v]) => [k, Buffer.from(v)]))]));
}

describe("captureName", () => {
  it("reads as lw-<leakwatch>-<pod>-<time>-<hash> when the names are short", () => {
    const name = captureName("checkout", "checkout-7d9f8c6b5-x2k4p", meta.createdAt);
    expect(name).toMatch(/^lw-checkout-checkout-7d9f8c6b5-x2k4p-20250304050607-[0-9a-f]{5}$/);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it("is deterministic, so a retried save finds its own objects", () => {
    expect(captureName("a", "b", meta.createdAt)).toBe(captureName("a", "b", meta.createdAt));
  });

  it("stays a ≤ 63-character DNS label and distinct when long names must be cut", () => {
    const lw = "a-very-long-leakwatch-name-for-the-payments-team.v2";
    const podA = `${"payments-ledger-reconciler-".repeat(4)}7d9f8c6b5-aaaaa`;
    const podB = `${"payments-ledger-reconciler-".repeat(4)}7d9f8c6b5-bbbbb`;
    const a = captureName(lw, podA, meta.createdAt);
    const b = captureName(lw, podB, meta.createdAt);
    for (const n of [a, b]) {
      expect(n.length).toBeLessThanOrEqual(63);
      expect(n).toMatch(DNS_LABEL);
    }
    expect(a).not.toBe(b);
    expect(captureName("x", "pod", "2025-03-04T05:06:07.124Z")).not.toBe(
      captureName("x", "pod", meta.createdAt),
    );
  });

  it("refuses a time it cannot read", () => {
    expect(() => captureName("x", "y", "yesterday")).toThrow(RangeError);
  });
});

describe("size policy", () => {
  it("keeps everything under the limit", () => {
    const { kept, omitted } = fitToLimit("c", files(100 * KiB, 50 * KiB, 100 * KiB), 4096 * KiB);
    expect(kept.map(([n]) => n)).toEqual([
      "heap.pb.gz",
      "goroutine.pb.gz",
      "base-heap.pb.gz",
      "report.txt",
      "report.json",
    ]);
    expect(omitted).toEqual([]);
  });

  it("drops the base profile first, then the goroutine profile, and says so", () => {
    const baseOnly = fitToLimit("c", files(300 * KiB, 100 * KiB, 300 * KiB), 500 * KiB);
    expect(baseOnly.omitted).toEqual([{ file: "base-heap.pb.gz", bytes: 300 * KiB, action: "dropped" }]);
    expect(baseOnly.kept.map(([n]) => n)).toContain("goroutine.pb.gz");

    const both = fitToLimit("c", files(300 * KiB, 250 * KiB, 300 * KiB), 500 * KiB);
    expect(both.omitted.map((o) => o.file)).toEqual(["base-heap.pb.gz", "goroutine.pb.gz"]);
  });

  it("refuses, with a typed error, a heap profile larger than the limit on its own", () => {
    expect(() => fitToLimit("c", files(65 * KiB), 64 * KiB)).toThrow(CaptureTooLargeError);
  });

  it("cuts the report (UTF-8 safe) only when the heap alone still leaves too little room", () => {
    const report = "漏れ".repeat(20 * KiB);
    const { kept, omitted } = fitToLimit("c", files(60 * KiB, 10, 10, report), 64 * KiB);
    const total = kept.reduce((sum, [, b]) => sum + b.length, 0);
    expect(total).toBeLessThanOrEqual(64 * KiB);
    expect(omitted.map((o) => `${o.file}:${o.action}`)).toEqual([
      "base-heap.pb.gz:dropped",
      "goroutine.pb.gz:dropped",
      "report.json:dropped",
      "report.txt:truncated",
    ]);
    const text = kept.find(([n]) => n === "report.txt")?.[1].toString("utf8") ?? "";
    expect(text.isWellFormed() && !text.includes("\uFFFD")).toBe(true);
    expect(text).toContain("cut to fit captures.maxBytes");
  });
});

describe("planCapture / assembleFiles", () => {
  it("fits a small capture in one part", () => {
    const plan = planCapture("c", files(40 * KiB, 5 * KiB), meta, 4096 * KiB);
    expect(plan.parts).toHaveLength(1);
    expect(plan.manifest.meta.omitted).toEqual([]);
  });

  it("splits a 2.5 MiB capture into parts of at most 512 KiB and reassembles it byte-exact", () => {
    const input = files(1700 * KiB, 300 * KiB, 600 * KiB, "top growth: main.leak");
    const plan = planCapture("c", input, meta, 4096 * KiB);
    expect(plan.parts.length).toBe(Math.ceil(plan.manifest.totalBytes / PART_MAX_BYTES));
    for (const part of plan.parts) {
      expect(part.bytes).toBeLessThanOrEqual(PART_MAX_BYTES);
      expect([...part.data.values()].reduce((s, b) => s + b.length, 0)).toBe(part.bytes);
    }
    const manifest = parseManifest("c", JSON.stringify(plan.manifest));
    const back = assembleFiles(manifest, storedParts(plan));
    expect(back["heap.pb.gz"].equals(input["heap.pb.gz"])).toBe(true);
    expect(back["goroutine.pb.gz"]?.equals(input["goroutine.pb.gz"] ?? Buffer.alloc(0))).toBe(true);
    expect(back["base-heap.pb.gz"]?.equals(input["base-heap.pb.gz"] ?? Buffer.alloc(0))).toBe(true);
    expect(back["report.txt"]).toBe(input["report.txt"]);
    expect(back["report.json"]).toBe(input["report.json"]);
  });

  it("detects a flipped byte, a missing chunk and a malformed manifest", () => {
    const plan = planCapture("c", files(700 * KiB), meta, 4096 * KiB);
    const parts = storedParts(plan);
    const chunk = parts.get(plan.parts[1]?.name ?? "")?.get("heap.pb.gz.1");
    if (chunk === undefined) throw new Error("expected a second heap chunk");
    chunk[100] = (chunk[100] ?? 0) ^ 0xff;
    expect(() => assembleFiles(plan.manifest, parts)).toThrow(CaptureCorruptError);

    const missing = storedParts(plan);
    missing.get(plan.parts[0]?.name ?? "")?.delete("heap.pb.gz.0");
    expect(() => assembleFiles(plan.manifest, missing)).toThrow(CaptureCorruptError);

    expect(() => parseManifest("c", "{")).toThrow(CaptureCorruptError);
    expect(() => parseManifest("c", JSON.stringify({ ...plan.manifest, files: [{ name: "x" }] }))).toThrow(
      CaptureCorruptError,
    );
  });
});
