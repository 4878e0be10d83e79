// Every time constant of the detector, derived from the window and the scrape interval (and, for the
// load-cycle history only, from the cycle). The defaults (window 2 h, interval 60 s) give blocks of
// 3 min, 40 blocks per window, 15-minute buckets and a 1 h healthy ramp; a demo-speed LeakWatch
// (interval 2 s, window 2 min) gets blocks of 6 s and a 1-minute ramp, so it calls fast leaks in minutes.
import type { DetectorConfig } from "./config.ts";

/** Blocks per window the detector aims for; a block is the median of up to three samples. */
const TARGET_BLOCKS_PER_WINDOW = 20;
/** A block never holds more than three samples (a single GC spike cannot move a median of three). */
const MAX_SAMPLES_PER_BLOCK = 3;
/** Fewest blocks a trend is judged on: one-sided p below 0.002 needs at least 8 ranks. */
const MIN_TREND_BLOCKS = 8;
/** Share of the window the shortest fast-tier span covers. */
const MIN_SPAN_SHARE = 0.2;
/** Buckets per load cycle (15 minutes for a 24 h cycle). */
const BUCKETS_PER_CYCLE = 96;

export interface Timing {
  readonly samplesPerBlock: number;
  readonly blockMs: number;
  /** Blocks in a full window. */
  readonly windowBlocks: number;
  /** Fewest blocks a trend is judged on (and the shortest fast-tier span). */
  readonly minBlocks: number;
  /** Bucket length: the resolution of the load-cycle history. */
  readonly bucketMs: number;
  /** How long a healthy ramp may climb before it falls back or levels off. */
  readonly rampMs: number;
}

const cache = new WeakMap<DetectorConfig, Timing>();

export function timingOf(config: DetectorConfig): Timing {
  const hit = cache.get(config);
  if (hit !== undefined) return hit;
  const intervals = Math.floor(config.windowMs / config.sampleIntervalMs);
  const samplesPerBlock = Math.max(
    1,
    Math.min(MAX_SAMPLES_PER_BLOCK, Math.floor(intervals / TARGET_BLOCKS_PER_WINDOW)),
  );
  const blockMs = samplesPerBlock * config.sampleIntervalMs;
  const windowBlocks = Math.max(1, Math.floor(config.windowMs / blockMs));
  const minBlocks = Math.min(
    windowBlocks,
    Math.max(MIN_TREND_BLOCKS, Math.round(MIN_SPAN_SHARE * windowBlocks)),
  );
  const bucketBlocks = Math.max(1, Math.round(config.cycleMs / BUCKETS_PER_CYCLE / blockMs));
  const timing: Timing = {
    samplesPerBlock,
    blockMs,
    windowBlocks,
    minBlocks,
    bucketMs: bucketBlocks * blockMs,
    rampMs: config.maxHealthyRampMs,
  };
  cache.set(config, timing);
  return timing;
}
