import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import zlib, { gunzipSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  CompressedTooLargeError,
  CorruptGzipError,
  DecompressedTooLargeError,
  decodeProfileBytes,
  decodeProfileStream,
  gunzipBounded,
  gunzipStream,
  MalformedProfileError,
  NotGzipError,
  summarizeHeap,
} from "../../../src/profile/index.ts";
import { FIXTURES } from "./helpers/go.ts";

const goHeap = readFileSync(path.join(FIXTURES, "go-heap.pb.gz"));
const MiB = 1 << 20;
const limits = { maxCompressedBytes: 64 * MiB, maxDecompressedBytes: 32 * MiB };

/** One gzip member inflating to 16 MiB of zeros (~16 KiB); 640 of them make 10 GiB. */
const bombMember = gzipSync(Buffer.alloc(16 * MiB), { level: 9 });
const BOMB_MEMBERS = 640;

/** The bytes as a stream of `size`-byte chunks, read one chunk ahead at most. */
function chunks(buf: Buffer, size: number): Readable {
  function* pieces(): Generator<Buffer> {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  }
  return Readable.from(pieces(), { highWaterMark: 1 });
}

describe("bounded gunzip", () => {
  it("inflates a profile, whole or streamed in 1-byte chunks, to the same result", async () => {
    const whole = decodeProfileBytes(goHeap);
    const streamed = await decodeProfileStream(chunks(goHeap, 1));
    expect(streamed.compressed.equals(goHeap)).toBe(true);
    expect(streamed.profile.values).toEqual(whole.values);
    expect(streamed.decompressedBytes).toBeGreaterThan(goHeap.length);
  });

  it("says what it got instead of gzip", async () => {
    const html = Buffer.from("<!DOCTYPE html><html><body>Not Found</body></html>");
    expect(() => gunzipBounded(html, limits)).toThrow(NotGzipError);
    expect(() => gunzipBounded(html, limits)).toThrow(/starts with "<!DOCTYPE html>/);
    expect(() => gunzipBounded(Buffer.alloc(0), limits)).toThrow(/profile is empty/);
    await expect(gunzipStream(chunks(html, 1), limits)).rejects.toBeInstanceOf(NotGzipError);
    await expect(gunzipStream(chunks(Buffer.alloc(0), 1), limits)).rejects.toBeInstanceOf(NotGzipError);
    await expect(gunzipStream(chunks(Buffer.from([0x1f]), 1), limits)).rejects.toBeInstanceOf(NotGzipError);
  });

  it("reports truncated and corrupt gzip streams", async () => {
    const truncated = goHeap.subarray(0, goHeap.length - 100);
    expect(() => gunzipBounded(truncated, limits)).toThrow(CorruptGzipError);
    await expect(gunzipStream(chunks(truncated, 512), limits)).rejects.toBeInstanceOf(CorruptGzipError);
    const garbage = Buffer.concat([goHeap.subarray(0, 10), randomBytes(2000)]);
    expect(() => gunzipBounded(garbage, limits)).toThrow(CorruptGzipError);
    await expect(gunzipStream(chunks(garbage, 100), limits)).rejects.toBeInstanceOf(CorruptGzipError);
  });

  it("inflates gzip of garbage, then rejects it as not a profile", () => {
    expect(() => decodeProfileBytes(gzipSync(randomBytes(4096)))).toThrow(MalformedProfileError);
    expect(() => decodeProfileBytes(gzipSync("hello, world"))).toThrow(MalformedProfileError);
  });

  it("refuses more compressed bytes than allowed, and stops reading", async () => {
    const small = { maxCompressedBytes: 1000, maxDecompressedBytes: 32 * MiB };
    expect(() => gunzipBounded(goHeap, small)).toThrow(CompressedTooLargeError);
    let read = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const c of chunks(goHeap, 100) as AsyncIterable<Buffer>) {
        read += c.length;
        yield c;
      }
    }
    await expect(gunzipStream(counted(), small)).rejects.toBeInstanceOf(CompressedTooLargeError);
    expect(read).toBeLessThanOrEqual(1100);
  });

  it("cuts off a 10 GiB gzip bomb held in memory at the decompressed cap", () => {
    const bomb = Buffer.concat(Array.from({ length: BOMB_MEMBERS }, () => bombMember));
    const peakBefore = process.resourceUsage().maxRSS;
    expect(() => gunzipBounded(bomb, limits)).toThrow(DecompressedTooLargeError);
    expect(() => decodeProfileBytes(bomb, { limits })).toThrow(DecompressedTooLargeError);
    const grewKiB = process.resourceUsage().maxRSS - peakBefore;
    expect(grewKiB).toBeLessThan(512 * 1024); // the cap is 32 MiB; inflating it all would be 10 GiB
  });

  it("cuts off a streamed 10 GiB gzip bomb after reading only its first members", async () => {
    let members = 0;
    function* bomb(): Generator<Buffer> {
      for (; members < BOMB_MEMBERS; members++) yield bombMember;
    }
    const peakBefore = process.resourceUsage().maxRSS;
    const source = Readable.from(bomb(), { highWaterMark: 1 });
    await expect(gunzipStream(source, limits)).rejects.toBeInstanceOf(DecompressedTooLargeError);
    expect(members).toBeLessThan(8); // 32 MiB cap = 2 members; a few more may be buffered
    expect(process.resourceUsage().maxRSS - peakBefore).toBeLessThan(512 * 1024);
  });

  it("honours an abort signal while streaming", async () => {
    const controller = new AbortController();
    async function* forever(): AsyncGenerator<Buffer> {
      yield goHeap.subarray(0, 100);
      controller.abort();
      await new Promise(() => undefined); // never resolves: only the abort can end this
    }
    await expect(gunzipStream(forever(), limits, controller.signal)).rejects.toMatchObject({
      name: "AbortError",
    });
  });
});

/** A varint, for hand-built protobuf fields. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}

/** goHeap with an unknown field of random bytes (which decoders skip): `bytes` more, gzipped. */
function paddedHeap(bytes: number): Buffer {
  const field = Buffer.from([...varint((99 << 3) | 2), ...varint(bytes)]);
  return gzipSync(Buffer.concat([gunzipSync(goHeap), field, randomBytes(bytes)]));
}

describe("bounded gunzip: how it inflates", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("inflates into one chunk the size the gzip trailer announces", () => {
    const gunzip = vi.spyOn(zlib, "gunzipSync");
    const out = gunzipBounded(goHeap, limits);
    expect(out.equals(gunzipSync(goHeap))).toBe(true);
    expect(gunzip.mock.calls[0]?.[1]?.chunkSize).toBe(out.length + 1);
  });

  it("does not trust a trailer that announces more than the cap or a plausible ratio", () => {
    const lying = Buffer.from(goHeap);
    lying.writeUInt32LE(0xffffffff, lying.length - 4);
    const gunzip = vi.spyOn(zlib, "gunzipSync");
    expect(() => gunzipBounded(lying, limits)).toThrow(CorruptGzipError); // zlib checks the length
    expect(gunzip.mock.calls[0]?.[1]?.chunkSize).toBe(lying.length * 64);
    const small = { maxCompressedBytes: MiB, maxDecompressedBytes: 20_000 };
    expect(() => gunzipBounded(lying, small)).toThrow(CorruptGzipError);
    expect(gunzip.mock.calls[1]?.[1]?.chunkSize).toBe(20_001);
  });

  it("receives a small body whole and inflates it in one call, without a zlib stream", async () => {
    const createGunzip = vi.spyOn(zlib, "createGunzip");
    const got = await decodeProfileStream(chunks(goHeap, 1000), { stacks: "leaf" });
    expect(createGunzip).not.toHaveBeenCalled();
    expect(got.compressed.equals(goHeap)).toBe(true);
    expect(summarizeHeap(got.profile)).toEqual(summarizeHeap(decodeProfileBytes(goHeap, { stacks: "leaf" })));
  });

  it("keeps the caps on a small body: a one-member bomb stops at the decompressed cap", async () => {
    const small = { maxCompressedBytes: MiB, maxDecompressedBytes: MiB };
    expect(bombMember.length).toBeLessThan(64 * 1024);
    await expect(gunzipStream(chunks(bombMember, 4096), small)).rejects.toBeInstanceOf(
      DecompressedTooLargeError,
    );
  });

  it("streams a large body through zlib, from the bytes it read first", async () => {
    const big = paddedHeap(200 * 1024);
    expect(big.length).toBeGreaterThan(128 * 1024);
    const createGunzip = vi.spyOn(zlib, "createGunzip");
    const got = await decodeProfileStream(chunks(big, 4096), { stacks: "leaf" });
    expect(createGunzip).toHaveBeenCalledTimes(1);
    expect(got.compressed.equals(big)).toBe(true);
    expect(got.decompressedBytes).toBe(gunzipSync(big).length);
    expect(summarizeHeap(got.profile)).toEqual(summarizeHeap(decodeProfileBytes(goHeap, { stacks: "leaf" })));
  });

  it("honours an abort signal once a large body is streaming", async () => {
    const big = paddedHeap(200 * 1024);
    const controller = new AbortController();
    async function* slow(): AsyncGenerator<Buffer> {
      yield big.subarray(0, 100 * 1024);
      controller.abort();
      await new Promise(() => undefined);
    }
    await expect(gunzipStream(slow(), limits, controller.signal)).rejects.toMatchObject({
      name: "AbortError",
    });
  });
});
