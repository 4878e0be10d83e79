/** Byte caps applied to every profile, however it arrived. */
export interface ProfileLimits {
  /** Cap on the bytes received (gzipped). */
  readonly maxCompressedBytes: number;
  /** Cap on the inflated profile.proto, enforced while inflating. */
  readonly maxDecompressedBytes: number;
}

/**
 * Big enough for the heap profile of a large Go service (a 1 MiB gzipped heap profile
 * inflates to about 4 MiB), small enough that one scrape cannot hurt the operator.
 */
export const DEFAULT_LIMITS: ProfileLimits = {
  maxCompressedBytes: 16 << 20,
  maxDecompressedBytes: 64 << 20,
};

export function resolveLimits(limits: Partial<ProfileLimits> | undefined): ProfileLimits {
  return { ...DEFAULT_LIMITS, ...limits };
}
