// Public surface of the growth detector (pure: no I/O, no clock, no logger).
export type { Assessment, MetricAssessment, Sample, Tier, Verdict } from "./types.ts";
export {
  defaultDetectorConfig,
  resolveDetectorConfig,
  sensitivityPresets,
  type DetectorConfig,
  type Sensitivity,
  type SensitivityPreset,
} from "./config.ts";
export {
  createSeriesState,
  restoreSeriesState,
  serializeSeriesState,
  type SeriesState,
} from "./series-state.ts";
export { observe } from "./observe.ts";
export {
  DetectError,
  InvalidDetectorConfigError,
  InvalidSampleError,
  InvalidSeriesStateError,
  SeriesCsvError,
} from "./errors.ts";
export { formatBytes, formatDuration, formatPercent } from "./format.ts";
export { formatSeriesCsv, parseSeriesCsv } from "./csv.ts";
