// The pure half of the state store: which shard a target's state lives in, how many shards a
// LeakWatch needs, and the shard payload format.
import { createHash } from "node:crypto";

/**
 * Raw (uncompressed) JSON aimed at per shard. Detector state gzips about 3:1 (noisy numbers), so a
 * shard stores ~350 KiB, half the 700 KiB allowed; less compressible state doubles the count.
 */
export const SHARD_TARGET_RAW_BYTES = 1024 * 1024;
/** Compressed bytes allowed per shard ConfigMap (933 KiB base64'd; the API's limit is 1 MiB). */
export const SHARD_MAX_BYTES = 700 * 1024;
/** 256 × 700 KiB = 175 MiB compressed: far beyond any LeakWatch one replica can scrape. */
export const MAX_SHARDS = 256;

/**
 * A stable 32-bit hash (FNV-1a, then murmur3's finalizer so the low bits are well mixed):
 * the same key lands in the same shard in every process and release.
 */
export function stableHash(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(key, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Shard counts are powers of two, so doubling splits each shard in two and nothing else moves. */
export function shardOf(key: string, shards: number): number {
  return stableHash(key) & (shards - 1);
}

/**
 * Shards for `rawBytes` of state: the smallest power of two that keeps each near
 * SHARD_TARGET_RAW_BYTES. The current count is kept unless it is too small or four times too
 * large, so a LeakWatch hovering at a boundary does not re-shard back and forth.
 */
export function chooseShardCount(rawBytes: number, current: number): number {
  let wanted = 1;
  while (wanted < MAX_SHARDS && wanted * SHARD_TARGET_RAW_BYTES < rawBytes) wanted *= 2;
  if (current >= wanted && current < wanted * 4) return current;
  return wanted;
}

export function rawSize(entries: ReadonlyMap<string, string>): number {
  let total = 0;
  for (const [key, value] of entries) total += key.length + value.length + 8;
  return total;
}

/** Groups keys by shard, each group in key order so equal content serialises identically. */
export function groupByShard(entries: ReadonlyMap<string, string>, shards: number): Map<string, string>[] {
  const groups = Array.from({ length: shards }, () => new Map<string, string>());
  for (const key of [...entries.keys()].sort()) {
    groups[shardOf(key, shards)]?.set(key, entries.get(key) ?? "");
  }
  return groups;
}

export interface ShardPayload {
  version: 1;
  shards: number;
  shard: number;
  entries: Record<string, string>;
}

export function encodeShard(group: ReadonlyMap<string, string>, shards: number, shard: number): string {
  const payload: ShardPayload = { version: 1, shards, shard, entries: Object.fromEntries(group) };
  return JSON.stringify(payload);
}

/** Returns the entries, or a reason the payload cannot be used. */
export function decodeShard(text: string, shards: number, shard: number): Map<string, string> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (typeof value !== "object" || value === null) return "not an object";
  const payload = value as Partial<ShardPayload>;
  if (payload.version !== 1) return `unknown version ${JSON.stringify(payload.version)}`;
  if (payload.shards !== shards || payload.shard !== shard) return "belongs to another shard layout";
  const entries: unknown = payload.entries;
  if (typeof entries !== "object" || entries === null || Array.isArray(entries)) {
    return "entries is not an object";
  }
  const out = new Map<string, string>();
  for (const [key, state] of Object.entries(entries)) {
    if (typeof state !== "string") return `entry ${key} is not a string`;
    out.set(key, state);
  }
  return out;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
