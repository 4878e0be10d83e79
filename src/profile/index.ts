// The profile engine's public surface. Pure: no Kubernetes, no logging, no clock.
export type { ReadProfileOptions, ReceivedProfile, StreamProfileOptions } from "./bytes.ts";
export { decodeProfileBytes, decodeProfileStream } from "./bytes.ts";
export type { DecodeOptions } from "./decode.ts";
export { decodeProfile } from "./decode.ts";
export type { Delta, DiffOptions, GoroutineDiff, GoroutineDiffRow, HeapDiff, HeapDiffRow } from "./diff.ts";
export { diffGoroutines, diffHeap, siteName } from "./diff.ts";
export * from "./errors.ts";
export type { FetchedProfile, FetchProfileOptions } from "./fetch.ts";
export { DEFAULT_FETCH_TIMEOUT_MS, fetchProfile, profileURL } from "./fetch.ts";
export { formatBytes, formatRelative, formatSignedBytes } from "./format.ts";
export type { Frame } from "./frames.ts";
export { locationFrames, shortFile } from "./frames.ts";
export type { GoroutineGroup, GoroutineSummary, GoroutineSummaryOptions } from "./goroutines.ts";
export { describeGroup, GOROUTINE_TYPES, goroutineGroups, summarizeGoroutines } from "./goroutines.ts";
export type { GunzippedBytes } from "./gunzip.ts";
export { gunzipBounded, gunzipStream } from "./gunzip.ts";
export type { InflateAllowance } from "./inflight.ts";
export { InflightBudget, InflightLease } from "./inflight.ts";
export type { HeapSite, HeapSummary, HeapSummaryOptions } from "./heap.ts";
export {
  DEFAULT_MAX_SITES,
  effectiveSamplingBytes,
  heapSites,
  INUSE_SPACE_TYPES,
  inuseBytes,
  sampleTotals,
  summarizeHeap,
} from "./heap.ts";
export type { ProfileKind } from "./kind.ts";
export { profileKind } from "./kind.ts";
export type { ProfileLimits } from "./limits.ts";
export { DEFAULT_LIMITS } from "./limits.ts";
export type { PackedHeapSummary, PackOptions } from "./packed.ts";
export { packHeapSummary, unpackHeapSummary } from "./packed.ts";
export { parseGoroutineSummary, parseHeapSummary } from "./persist.ts";
export type { Profile, SampleType, StackDepth } from "./profile.ts";
export type { RenderTopOptions } from "./render.ts";
export {
  renderGoroutineDiffText,
  renderGoroutinesText,
  renderHeapDiffText,
  renderTopText,
} from "./render.ts";
export type { Granularity, TopOptions, TopRow, TopTable } from "./top.ts";
export { defaultSampleTypeIndex, topTable } from "./top.ts";
export {
  decodeTableLimit,
  TABLE_BYTES_FLOOR,
  TABLE_BYTES_PER_MESSAGE_BYTE,
  TableBudget,
} from "./table-budget.ts";
export { truncateHeapSummary } from "./truncate.ts";
