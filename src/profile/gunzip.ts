// Bounded gunzip: the decompressed cap is enforced while inflating, so a gzip bomb costs at
// most the cap in memory and the time to inflate that much — never its full size.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import {
  CompressedTooLargeError,
  CorruptGzipError,
  DecompressedTooLargeError,
  NotGzipError,
  ProfileError,
} from "./errors.ts";
import type { InflateAllowance } from "./inflight.ts";
import type { ProfileLimits } from "./limits.ts";

const GZIP_MAGIC_0 = 0x1f;
const INFLATE_CHUNK_BYTES = 128 * 1024;
const GZIP_MAGIC_1 = 0x8b;

/** Throws NotGzipError unless the bytes start with the gzip magic number. */
function assertGzip(start: Uint8Array): void {
  if (start.length >= 2 && start[0] === GZIP_MAGIC_0 && start[1] === GZIP_MAGIC_1) return;
  throw new NotGzipError(printablePrefix(start));
}

/** Up to 32 leading bytes, non-printable ones as "."; for error messages. */
function printablePrefix(bytes: Uint8Array, max = 32): string {
  let s = "";
  for (const b of bytes.subarray(0, max)) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
  return s;
}

/** Inflates a whole gzipped buffer, synchronously, with both caps. */
export function gunzipBounded(compressed: Uint8Array, limits: ProfileLimits): Buffer {
  if (compressed.length > limits.maxCompressedBytes) {
    throw new CompressedTooLargeError(limits.maxCompressedBytes);
  }
  assertGzip(compressed);
  try {
    return zlib.gunzipSync(compressed, {
      maxOutputLength: limits.maxDecompressedBytes,
      chunkSize: outputChunkBytes(compressed, limits),
    });
  } catch (err) {
    throw gunzipError(err, limits);
  }
}

const MIN_OUTPUT_CHUNK_BYTES = 16 * 1024; // zlib's default
/** Deflate packs at most ~1032:1; profiles ~2-10:1. A claim beyond this is not trusted. */
const MAX_PLAUSIBLE_RATIO = 64;

/**
 * The output chunk for a one-shot inflate: the inflated size the gzip trailer announces (ISIZE),
 * so a profile inflates into one buffer with no concatenation (measured: 13% less time at
 * 40 KiB, 20% at 1 MiB). The trailer is the sender's word, so the chunk never exceeds the
 * decompressed cap nor a plausible ratio to the input; a wrong claim only costs more chunks
 * (multi-member streams announce only their last member).
 */
function outputChunkBytes(compressed: Uint8Array, limits: ProfileLimits): number {
  const n = compressed.length;
  if (n < 18) return MIN_OUTPUT_CHUNK_BYTES; // header + trailer: too short to say anything
  // One byte more than announced: inflating into an exactly full buffer costs zlib a second one.
  const chunk = Math.min(
    announcedSize(compressed) + 1,
    limits.maxDecompressedBytes + 1,
    n * MAX_PLAUSIBLE_RATIO,
  );
  return Math.max(chunk, MIN_OUTPUT_CHUNK_BYTES);
}

/** The inflated size the gzip trailer claims (ISIZE, mod 2^32); 0 when too short to have one. */
function announcedSize(compressed: Uint8Array): number {
  const n = compressed.length;
  if (n < 18) return 0;
  return (
    ((compressed[n - 4] ?? 0) |
      ((compressed[n - 3] ?? 0) << 8) |
      ((compressed[n - 2] ?? 0) << 16) |
      ((compressed[n - 1] ?? 0) << 24)) >>>
    0
  );
}

/** What a streamed profile came to: the bytes as received (to store) and inflated (to decode). */
export interface GunzippedBytes {
  readonly compressed: Buffer;
  readonly decompressed: Buffer;
}

/**
 * Bodies up to this size are received whole, then inflated in one synchronous call: for a
 * typical heap profile the stream machinery and thread-pool round trips cost more than the
 * inflating (measured at 45 KiB: 1.0 ms of wall time and 1.9 ms of CPU per profile streamed,
 * 0.7 ms and 0.7 ms received whole). Small enough that holding it before inflating costs
 * nothing, and that a bomb still stops after a few members; larger bodies stream.
 */
const SYNC_INFLATE_MAX_COMPRESSED = 64 * 1024;

/**
 * Inflates a gzipped stream as it arrives (an HTTP body, a proxy response), enforcing both
 * caps chunk by chunk. Keeps the compressed bytes too: captures store them as received.
 */
export async function gunzipStream(
  source: AsyncIterable<Uint8Array> | Readable,
  limits: ProfileLimits,
  signal?: AbortSignal,
  allowance?: InflateAllowance,
): Promise<GunzippedBytes> {
  const compressed: Buffer[] = [];
  let compressedLength = 0;
  let checked = false;
  const chunks = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();

  function received(chunk: Uint8Array): Buffer {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    compressedLength += buf.length;
    if (compressedLength > limits.maxCompressedBytes) {
      throw new CompressedTooLargeError(limits.maxCompressedBytes);
    }
    compressed.push(buf);
    if (!checked && compressedLength >= 2) {
      assertGzip(Buffer.concat(compressed));
      checked = true;
    }
    return buf;
  }

  /** Reads while the body is small; true when it ended there. */
  async function head(): Promise<boolean> {
    while (compressedLength <= SYNC_INFLATE_MAX_COMPRESSED) {
      const next = await chunks.next();
      if (next.done === true) return true;
      received(next.value);
    }
    return false;
  }

  let whole: boolean;
  try {
    const reading = head();
    whole = await (signal === undefined ? reading : untilAborted(reading, signal));
  } catch (err) {
    // Release the source, as pipeline() would (a stuck generator just gets the request queued).
    chunks.return?.().catch(() => undefined);
    throw gunzipError(err, limits);
  }
  if (whole) {
    const all = Buffer.concat(compressed, compressedLength);
    if (allowance === undefined) return { compressed: all, decompressed: gunzipBounded(all, limits) };
    const decompressed = await inflateReserved(all, limits, allowance, signal);
    if (decompressed !== undefined) return { compressed: all, decompressed };
    // Inflates past what its trailer claimed: streamed below, reserving chunk by chunk.
  }

  const inflated: Buffer[] = [];
  let inflatedLength = 0;
  const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => chunks };

  async function* body(): AsyncGenerator<Buffer> {
    yield* compressed.slice(); // what head() read; received() appends to `compressed` below
    for await (const chunk of rest) yield received(chunk);
  }

  async function collect(output: AsyncIterable<Buffer>): Promise<void> {
    for await (const chunk of output) {
      inflatedLength += chunk.length;
      if (inflatedLength > limits.maxDecompressedBytes) {
        throw new DecompressedTooLargeError(limits.maxDecompressedBytes);
      }
      // Held only once the budget has room: waiting here holds back the stream (backpressure).
      if (allowance !== undefined) await allowance.reserve(chunk.length, signal);
      inflated.push(chunk);
    }
  }

  try {
    // 128 KiB output chunks: a profile inflates in one or two round trips to the zlib thread pool
    // instead of one per 16 KiB (measured: a third less CPU per profile, half the main-thread time).
    const gunzip = zlib.createGunzip({ chunkSize: INFLATE_CHUNK_BYTES });
    const done = pipeline(body, gunzip, collect, signal === undefined ? {} : { signal });
    await (signal === undefined ? done : untilAborted(done, signal));
  } catch (err) {
    throw gunzipError(err, limits);
  }
  return {
    compressed: Buffer.concat(compressed, compressedLength),
    decompressed: Buffer.concat(inflated, inflatedLength),
  };
}

/**
 * A small body inflated in one call, its output reserved first: as much as its trailer claims
 * (within the cap and a plausible ratio), given back down to what it came to. Undefined when it
 * inflates past that claim (the caller then streams it, reserving as it goes).
 */
async function inflateReserved(
  all: Buffer,
  limits: ProfileLimits,
  allowance: InflateAllowance,
  signal: AbortSignal | undefined,
): Promise<Buffer | undefined> {
  const cap = limits.maxDecompressedBytes;
  const claim = Math.min(
    cap,
    Math.max(announcedSize(all), MIN_OUTPUT_CHUNK_BYTES),
    Math.max(all.length * MAX_PLAUSIBLE_RATIO, MIN_OUTPUT_CHUNK_BYTES),
  );
  await allowance.reserve(claim, signal);
  let out: Buffer;
  try {
    out = gunzipBounded(all, { ...limits, maxDecompressedBytes: claim });
  } catch (err) {
    allowance.unreserve(claim);
    if (err instanceof DecompressedTooLargeError && claim < cap) return undefined;
    throw err instanceof DecompressedTooLargeError ? new DecompressedTooLargeError(cap) : err;
  }
  allowance.unreserve(claim - out.length);
  return out;
}

/** Maps zlib's errors to ours; anything else (our own, aborts) passes through. */
function gunzipError(err: unknown, limits: ProfileLimits): unknown {
  if (err instanceof ProfileError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "ERR_BUFFER_TOO_LARGE") return new DecompressedTooLargeError(limits.maxDecompressedBytes);
  if (code === "Z_BUF_ERROR") return new CorruptGzipError("truncated", { cause: err });
  if (typeof code === "string" && code.startsWith("Z_")) {
    const message = err instanceof Error ? err.message : code;
    return new CorruptGzipError(message, { cause: err });
  }
  return err;
}

/**
 * Settles with `work`, or rejects with the signal's reason as soon as it aborts — even when
 * the source is an async iterable stuck in an await, which pipeline() cannot interrupt.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined); // after an abort, its eventual failure is expected
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("The operation was aborted", "AbortError");
}
