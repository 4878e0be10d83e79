// Detector settings: one place for the defaults, validated once (never per sample).
import { InvalidDetectorConfigError } from "./errors.ts";

export type Sensitivity = "Low" | "Medium" | "High";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface DetectorConfig {
  /** How far back the trend tests look (the fast tier's window). */
  readonly windowMs: number;
  /** Samples this soon after a container start are ignored: start-up growth is not a leak. */
  readonly warmupMs: number;
  /**
   * Expected scrape interval. Samples are summarised in blocks of up to three intervals (fewer when
   * the window holds fewer than 60 intervals), so every time constant scales with the LeakWatch.
   */
  readonly sampleIntervalMs: number;
  /** Growth below this many bytes per hour is never a leak. */
  readonly minGrowthBytesPerHour: number;
  /** Growth below this percentage per hour (of the median heap in the window) is never a leak. */
  readonly minGrowthPercentPerHour: number;
  /** Low: fewer, later alarms. High: earlier alarms on weaker evidence. */
  readonly sensitivity: Sensitivity;
  /** Goroutine growth below this many per hour is never a leak. */
  readonly minGoroutineGrowthPerHour: number;
  /**
   * The in-use heap at which the container would hit its memory limit. The controller derives it from
   * the container limit and an overhead factor; `leakwatch detect --limit` passes it as is. Gives the
   * projected time to the ceiling, and lets the fast tier call steady growth that would reach it within
   * two windows even when a daily load cycle could climb as fast.
   */
  readonly heapCeilingBytes?: number;
  /**
   * The heap figure's sampling error as an effective period: the error of a figure of H bytes is
   * √(H × this). A heap profile that records allocations by size (Go: one per 512 KiB,
   * runtime.MemProfileRate) counts each recorded one up, so its in-use figure is an estimate; for small
   * objects this is about the period, for objects well above it next to nothing (the controller computes
   * it from each profile's rows). Growth must stand out from that error. Unset when the figure is exact.
   */
  readonly heapSamplingBytes?: number;
  /**
   * Bytes the process allocates per hour (the heap profile's `alloc_space`, between scrapes). Bounds how
   * much of the heap can have been replaced over a span, so how much sampling error a change of the heap
   * figure can carry. Unset: the whole heap may have been.
   */
  readonly heapAllocBytesPerHour?: number;
  /**
   * Growth faster than this (percent per hour) cannot come from a daily load cycle: a 24 h cycle of
   * ±30% climbs at most 2π·30%/24 h ≈ 7.9%/h. Slower growth must be proven over a full cycle.
   */
  readonly fastGrowthPercentPerHour: number;
  /** Length of the load cycle that slower growth is checked against. */
  readonly cycleMs: number;
  /**
   * How long a healthy ramp (a batch buffer, a sawtooth tooth, a filling cache) may climb before it
   * falls back. Fast growth must outlast it unless it rises clearly above everything the history has
   * shown. Defaults to half the window (1 h at the default 2 h window).
   */
  readonly maxHealthyRampMs: number;
}

export const defaultDetectorConfig: DetectorConfig = {
  windowMs: 2 * HOUR,
  warmupMs: 10 * MINUTE,
  sampleIntervalMs: MINUTE,
  minGrowthBytesPerHour: 512 * 1024,
  minGrowthPercentPerHour: 1,
  sensitivity: "Medium",
  minGoroutineGrowthPerHour: 10,
  fastGrowthPercentPerHour: 10,
  cycleMs: 24 * HOUR,
  maxHealthyRampMs: HOUR,
};

/** Statistical knobs behind each sensitivity. */
export interface SensitivityPreset {
  /** One-sided significance level of the trend tests. */
  readonly alpha: number;
  /** Multiplies fastGrowthPercentPerHour. */
  readonly fastFactor: number;
  /** Multiplies the time growth must be seen before the fast tier calls it. */
  readonly spanFactor: number;
}

export const sensitivityPresets: Readonly<Record<Sensitivity, SensitivityPreset>> = {
  Low: { alpha: 0.0005, fastFactor: 1.25, spanFactor: 1.5 },
  Medium: { alpha: 0.002, fastFactor: 1, spanFactor: 1 },
  High: { alpha: 0.01, fastFactor: 0.85, spanFactor: 0.75 },
};

function requirePositive(field: keyof DetectorConfig, value: number | undefined, allowZero = false): void {
  if (value === undefined || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new InvalidDetectorConfigError(
      field,
      `must be a ${allowZero ? "non-negative" : "positive"} finite number`,
    );
  }
}

/**
 * Merges overrides onto the defaults and rejects impossible combinations. `maxHealthyRampMs`, unless
 * given, is half the window: every time constant but the load cycle scales with the window.
 */
export function resolveDetectorConfig(overrides: Partial<DetectorConfig> = {}): DetectorConfig {
  const merged: DetectorConfig = { ...defaultDetectorConfig, ...overrides };
  const config: DetectorConfig =
    overrides.maxHealthyRampMs === undefined ? { ...merged, maxHealthyRampMs: merged.windowMs / 2 } : merged;
  requirePositive("windowMs", config.windowMs);
  requirePositive("warmupMs", config.warmupMs, true);
  requirePositive("sampleIntervalMs", config.sampleIntervalMs);
  requirePositive("minGrowthBytesPerHour", config.minGrowthBytesPerHour, true);
  requirePositive("minGrowthPercentPerHour", config.minGrowthPercentPerHour, true);
  requirePositive("minGoroutineGrowthPerHour", config.minGoroutineGrowthPerHour, true);
  requirePositive("fastGrowthPercentPerHour", config.fastGrowthPercentPerHour);
  requirePositive("cycleMs", config.cycleMs);
  requirePositive("maxHealthyRampMs", config.maxHealthyRampMs, true);
  if (config.heapCeilingBytes !== undefined) requirePositive("heapCeilingBytes", config.heapCeilingBytes);
  if (config.heapSamplingBytes !== undefined) requirePositive("heapSamplingBytes", config.heapSamplingBytes);
  if (config.heapAllocBytesPerHour !== undefined) {
    requirePositive("heapAllocBytesPerHour", config.heapAllocBytesPerHour, true);
  }
  if (!(config.sensitivity in sensitivityPresets)) {
    throw new InvalidDetectorConfigError("sensitivity", "must be Low, Medium or High");
  }
  if (config.windowMs < 10 * config.sampleIntervalMs) {
    throw new InvalidDetectorConfigError("windowMs", "must hold at least 10 sample intervals");
  }
  if (config.maxHealthyRampMs > config.windowMs) {
    throw new InvalidDetectorConfigError("maxHealthyRampMs", "must not exceed windowMs");
  }
  if (config.cycleMs < 2 * config.windowMs) {
    throw new InvalidDetectorConfigError("cycleMs", "must be at least twice windowMs");
  }
  return config;
}
