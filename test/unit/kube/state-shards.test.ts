import { describe, expect, it } from "vitest";
import {
  MAX_SHARDS,
  SHARD_TARGET_RAW_BYTES,
  chooseShardCount,
  decodeShard,
  encodeShard,
  groupByShard,
  shardOf,
  stableHash,
} from "../../../src/kube/state-shards.ts";

const keys = Array.from({ length: 5000 }, (_, i) => `shop/checkout-7d9f8c6b5-${i.toString(36)}/app`);

describe("shard assignment", () => {
  it("is stable across processes and releases (pinned values)", () => {
    // Changing these would scatter every stored target on upgrade: re-shard, do not re-hash.
    // Values from an independent implementation (FNV-1a 32, then murmur3 fmix32).
    expect(stableHash("")).toBe(2872998923);
    expect(stableHash("shop/checkout-0/app")).toBe(2871917101);
    expect(stableHash("ns/pod/container")).toBe(73935988);
    expect(stableHash("漏")).toBe(148214410);
    expect(shardOf("ns/pod/container", 8)).toBe(73935988 & 7);
  });

  it("spreads similar keys evenly", () => {
    const counts = new Array<number>(16).fill(0);
    for (const key of keys) counts[shardOf(key, 16)] = (counts[shardOf(key, 16)] ?? 0) + 1;
    const mean = keys.length / 16;
    for (const c of counts) expect(Math.abs(c - mean)).toBeLessThan(mean * 0.2);
  });

  it("splits each shard in two when the count doubles; nothing else moves", () => {
    for (const key of keys) {
      const before = shardOf(key, 8);
      expect([before, before + 8]).toContain(shardOf(key, 16));
    }
  });
});

describe("chooseShardCount", () => {
  const MiB = 1024 * 1024;
  it("picks the smallest power of two keeping shards near the target size", () => {
    expect(chooseShardCount(0, 0)).toBe(1);
    expect(chooseShardCount(SHARD_TARGET_RAW_BYTES, 0)).toBe(1);
    expect(chooseShardCount(SHARD_TARGET_RAW_BYTES + 1, 0)).toBe(2);
    expect(chooseShardCount(5000 * 3 * 1024, 0)).toBe(16);
    expect(chooseShardCount(10_000 * MiB, 0)).toBe(MAX_SHARDS);
  });

  it("keeps the current count until it is too small or four times too large", () => {
    expect(chooseShardCount(3 * MiB, 4)).toBe(4);
    expect(chooseShardCount(3 * MiB, 8)).toBe(8);
    expect(chooseShardCount(3 * MiB, 16)).toBe(4);
    expect(chooseShardCount(9 * MiB, 8)).toBe(16);
  });
});

describe("shard payload", () => {
  it("round-trips and serialises equal content identically", () => {
    const entries = new Map(keys.slice(0, 200).map((k, i) => [k, JSON.stringify({ i, heap: [1, 2, 3] })]));
    const shuffled = new Map([...entries].reverse());
    const a = groupByShard(entries, 4);
    const b = groupByShard(shuffled, 4);
    for (let i = 0; i < 4; i++) {
      const text = encodeShard(a[i] ?? new Map(), 4, i);
      expect(encodeShard(b[i] ?? new Map(), 4, i)).toBe(text);
      expect(decodeShard(text, 4, i)).toEqual(a[i]);
    }
    expect(a.reduce((sum, g) => sum + g.size, 0)).toBe(200);
  });

  it("refuses payloads of another layout or shape, with a reason", () => {
    const text = encodeShard(new Map([["k", "v"]]), 4, 1);
    expect(decodeShard(text, 8, 1)).toBe("belongs to another shard layout");
    expect(decodeShard("nope", 4, 1)).toBe("not JSON");
    expect(decodeShard(JSON.stringify({ version: 1, shards: 4, shard: 1, entries: { k: 1 } }), 4, 1)).toMatch(
      /not a string/,
    );
    expect(decodeShard(JSON.stringify({ version: 1, shards: 4, shard: 1, entries: null }), 4, 1)).toMatch(
      /not an object/,
    );
  });
});
