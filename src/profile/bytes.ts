// "Bytes in → bounded gunzip → decode", independent of how the bytes arrived (a file, our
// own HTTP fetch, or the controller's API-server proxy client).
import type { Readable } from "node:stream";
import type { DecodeOptions } from "./decode.ts";
import { decodeProfile } from "./decode.ts";
import { gunzipBounded, gunzipStream } from "./gunzip.ts";
import type { InflateAllowance } from "./inflight.ts";
import type { ProfileLimits } from "./limits.ts";
import { resolveLimits } from "./limits.ts";
import type { Profile } from "./profile.ts";

export interface ReadProfileOptions extends DecodeOptions {
  readonly limits?: Partial<ProfileLimits>;
}

/** Decodes a gzipped profile held in memory (a file, a stored capture). */
export function decodeProfileBytes(compressed: Uint8Array, options: ReadProfileOptions = {}): Profile {
  return decodeProfile(gunzipBounded(compressed, resolveLimits(options.limits)), options);
}

export interface ReceivedProfile {
  /** The gzipped bytes exactly as received: what a capture stores. */
  readonly compressed: Buffer;
  readonly decompressedBytes: number;
  readonly profile: Profile;
}

export interface StreamProfileOptions extends ReadProfileOptions {
  readonly signal?: AbortSignal;
  /**
   * A share of a budget of inflated bytes (InflightBudget.lease()): each inflated chunk is reserved
   * before it is held, waiting while the budget is full. The caller releases it when done.
   */
  readonly allowance?: InflateAllowance;
}

/** Inflates (bounded, while streaming) and decodes a gzipped profile arriving as a stream. */
export async function decodeProfileStream(
  source: AsyncIterable<Uint8Array> | Readable,
  options: StreamProfileOptions = {},
): Promise<ReceivedProfile> {
  const { compressed, decompressed } = await gunzipStream(
    source,
    resolveLimits(options.limits),
    options.signal,
    options.allowance,
  );
  return {
    compressed,
    decompressedBytes: decompressed.length,
    profile: decodeProfile(decompressed, options),
  };
}
