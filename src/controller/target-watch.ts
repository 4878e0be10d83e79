// One watched container: its detector series, its diff baseline, and one scrape at a time.
// Memory per target is bounded: the detector state (downsampled), two compact baselines, and — only
// while the target is Suspected or Leaking — the raw heap profile from when suspicion began.
import type { WatchSettings } from "../api/defaults.ts";
import type { CaptureRef } from "../api/types.ts";
import {
  createSeriesState,
  observe,
  restoreSeriesState,
  serializeSeriesState,
  type Assessment,
  type DetectorConfig,
  type SeriesState,
} from "../detect/index.ts";
import {
  effectiveSamplingBytes,
  inuseBytes,
  packHeapSummary,
  summarizeGoroutines,
  summarizeHeap,
  unpackHeapSummary,
  type GoroutineSummary,
  type HeapSummary,
  type InflateAllowance,
  type PackedHeapSummary,
  type ProfileLimits,
  type ReceivedProfile,
} from "../profile/index.ts";
import { AllocationRate } from "./allocation-rate.ts";
import {
  newEpisode,
  persistEpisode,
  restoreEpisode,
  type Episode,
  type PersistedEpisode,
} from "./episode.ts";
import { intern } from "./intern.ts";
import type { Credentials, ProfileSource } from "./source.ts";
import type { MetricView, TargetView } from "./status.ts";
import type { Target } from "./targets.ts";

/** Sites kept in the per-target baseline (the full summary is made fresh for each report). */
export const BASELINE_SITES = 48;

export interface ScrapeContext {
  settings: WatchSettings;
  detector: DetectorConfig;
  source: ProfileSource;
  limits: ProfileLimits;
  /** This scrape's share of the budget of inflated bytes in flight; the caller releases it. */
  allowance?: InflateAllowance;
  /** Tell the detector the heap profile's sampling error (--weigh-sampling-error). */
  weighSamplingError?: boolean;
  credentials: () => Promise<Credentials>;
}

export interface ProfileWithSummary<S> {
  received: ReceivedProfile;
  summary: S;
}

/** Everything one scrape produced; the raw bytes live only as long as the actions need them. */
export interface ScrapeResult {
  at: number;
  heap: ProfileWithSummary<HeapSummary>;
  goroutines: ProfileWithSummary<GoroutineSummary> | undefined;
  goroutineLeak: ProfileWithSummary<GoroutineSummary> | undefined;
  assessment: Assessment;
  restarted: boolean;
}

/** What survives an operator restart (persisted by the state store). */
export interface PersistedTarget {
  podUID: string;
  restartCount: number;
  startedAt: number | undefined;
  series: string;
  /** The growth episode's events already sent (absent in state written before it was kept). */
  episode?: PersistedEpisode;
}

interface Baseline {
  summary: PackedHeapSummary;
  at: number;
}

/** The diff baseline as a report reads it. */
export interface DiffBaseline {
  summary: HeapSummary;
  at: number;
}

export class TargetWatch {
  target: Target;
  private series: SeriesState;
  private assessment: Assessment | undefined;
  private heapBytes: number | undefined;
  private goroutineCount: number | undefined;
  private seenRestartCount: number;
  private seenStartedAt: number | undefined;
  /** Only with --weigh-sampling-error: nothing to track per scrape otherwise. */
  private allocation: AllocationRate | undefined;
  private baseline: Baseline | undefined;
  private nextBaseline: Baseline | undefined;
  /** The raw heap profile when suspicion began: the capture's `go tool pprof -base`. */
  suspectedBase: { compressed: Buffer; at: number } | undefined;
  failures = 0;
  lastError: string | undefined;
  /** The goroutine profile could not be read at the last scrape (the heap was). */
  goroutineProblem: string | undefined;
  /** A ScrapeFailing warning went out for the current failure streak. */
  failureWarned = false;
  /** What the current growth episode is still owed (events, capture). */
  episode: Episode = newEpisode();
  /** Changed since last persisted. */
  dirty = false;
  /** Became Leaking, or stopped being Leaking, since last persisted (persisted soon, not at the next period). */
  leakingMoved = false;

  /** `captures`: the LeakWatch's stored captures, so a restored episode is not captured twice. */
  constructor(target: Target, restored?: PersistedTarget, captures: readonly CaptureRef[] = []) {
    this.target = target;
    const usable = restored !== undefined && restored.podUID === target.podUID;
    this.series = usable ? restoreSeriesState(restored.series) : createSeriesState();
    this.assessment = usable ? (this.series.last ?? undefined) : undefined;
    this.seenRestartCount = usable ? restored.restartCount : target.restartCount;
    this.seenStartedAt = usable ? restored.startedAt : target.startedAt;
    if (usable) {
      this.episode = restoreEpisode(
        restored.episode,
        [this.series.heap, this.series.goroutines],
        target.pod,
        captures,
      );
    }
  }

  get currentAssessment(): Assessment | undefined {
    return this.assessment;
  }

  /** Unpacked on each call: reports are rare, the packed copy is what stays in memory. */
  get diffBaseline(): DiffBaseline | undefined {
    const b = this.baseline;
    return b === undefined ? undefined : { summary: unpackHeapSummary(b.summary), at: b.at };
  }

  persisted(): PersistedTarget {
    return {
      podUID: this.target.podUID,
      restartCount: this.seenRestartCount,
      startedAt: this.seenStartedAt,
      series: serializeSeriesState(this.series),
      episode: persistEpisode(this.episode),
    };
  }

  /**
   * The heap figure of a sampled profile is an estimate: the detector weighs its error, bounded by how
   * much the process allocates (a leak's new objects carry error, the heap it keeps does not).
   */
  private withSamplingError(
    detector: DetectorConfig,
    profile: ReceivedProfile["profile"],
    summary: HeapSummary,
    at: number,
    restarted: boolean,
  ): DetectorConfig {
    this.allocation ??= new AllocationRate();
    if (restarted) this.allocation.reset();
    const allocPerHour = this.allocation.observe(at, summary.totals["alloc_space"]);
    const sampling = effectiveSamplingBytes(profile);
    if (sampling === undefined) return detector;
    return {
      ...detector,
      heapSamplingBytes: sampling,
      ...(allocPerHour === undefined ? {} : { heapAllocBytesPerHour: allocPerHour }),
    };
  }

  async scrape(context: ScrapeContext, now: () => number, signal: AbortSignal): Promise<ScrapeResult> {
    const { settings } = context;
    const t = this.target;
    const credentials = await context.credentials();
    const request = {
      target: t,
      credentials,
      limits: context.limits,
      allowance: context.allowance,
      signal,
      timeoutMs: settings.target.timeoutMs,
    };
    const heap = await context.source.fetch({
      ...request,
      path: t.heapPath,
      port: t.port,
      forceGC: settings.target.forceGC,
      stacks: "leaf",
    });
    const heapSummary = summarizeHeap(heap.profile);
    // Goroutine profiles are extra evidence: when one fails, the heap sample still counts.
    const problems: string[] = [];
    const goroutineProfile = async (
      path: string,
    ): Promise<ProfileWithSummary<GoroutineSummary> | undefined> => {
      if (path === "") return undefined;
      try {
        const received = await context.source.fetch({
          ...request,
          path,
          port: t.goroutinePort,
          forceGC: false,
          stacks: "full",
        });
        return { received, summary: summarizeGoroutines(received.profile) };
      } catch (err) {
        if (signal.aborted) throw err;
        problems.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
    };
    const goroutines = await goroutineProfile(t.goroutinePath);
    const goroutineLeak = await goroutineProfile(t.goroutineLeakPath);
    const at = now();
    const restarted =
      t.restartCount > this.seenRestartCount ||
      (t.startedAt !== undefined && this.seenStartedAt !== undefined && t.startedAt > this.seenStartedAt);
    this.seenRestartCount = t.restartCount;
    this.seenStartedAt = t.startedAt;
    const bytes = inuseBytes(heapSummary);
    const detector =
      context.weighSamplingError === true
        ? this.withSamplingError(context.detector, heap.profile, heapSummary, at, restarted)
        : context.detector;
    const assessment = observe(
      this.series,
      {
        t: at,
        heapInuseBytes: bytes,
        ...(goroutines === undefined ? {} : { goroutines: goroutines.summary.total }),
        ...(restarted ? { restart: true, oomKilled: t.lastTerminationReason === "OOMKilled" } : {}),
      },
      detector,
    );
    if (isLeaking(this.assessment) !== isLeaking(assessment)) this.leakingMoved = true;
    this.assessment = assessment;
    this.heapBytes = bytes;
    this.goroutineCount = goroutines?.summary.total;
    this.failures = 0;
    this.failureWarned = false;
    this.lastError = undefined;
    this.goroutineProblem = problems.length === 0 ? undefined : problems.join("; ");
    this.dirty = true;
    if (restarted) {
      this.episode = newEpisode();
      this.baseline = undefined;
      this.nextBaseline = undefined;
      this.suspectedBase = undefined;
    }
    this.advanceBaseline(heapSummary, at, settings.detection.windowMs);
    this.trackSuspicion(heap, assessment, at);
    return {
      at,
      heap: { received: heap, summary: heapSummary },
      goroutines,
      goroutineLeak,
      assessment,
      restarted,
    };
  }

  recordFailure(message: string): void {
    this.failures++;
    this.lastError = message;
  }

  view(): TargetView {
    return {
      target: this.target,
      heap: metricView(this.assessment?.heap),
      goroutines: this.target.goroutinePath === "" ? undefined : metricView(this.assessment?.goroutines),
      heapBytes: this.heapBytes,
      goroutineCount: this.goroutineCount,
      problem: this.goroutineProblem,
      failing:
        this.failures > 0 && this.lastError !== undefined
          ? { error: this.lastError, failures: this.failures }
          : undefined,
    };
  }

  /**
   * The baseline is the summary from the start of the analysis window: a candidate is taken every
   * half window and promoted when the baseline ages past the window, so its age stays within
   * [window/2, window] and only two packed summaries are ever held, sharing one name table while
   * the newer one's names are all in the older one's table.
   */
  private advanceBaseline(summary: HeapSummary, at: number, windowMs: number): void {
    const compact = (): Baseline => ({
      summary: packHeapSummary(summary, BASELINE_SITES, {
        intern,
        strings: (this.nextBaseline ?? this.baseline)?.summary.strings,
      }),
      at,
    });
    if (this.baseline === undefined) {
      this.baseline = compact();
      return;
    }
    if (this.nextBaseline === undefined && at - this.baseline.at >= windowMs / 2)
      this.nextBaseline = compact();
    if (this.nextBaseline !== undefined && at - this.baseline.at >= windowMs) {
      this.baseline = this.nextBaseline;
      this.nextBaseline = compact();
    }
  }

  private trackSuspicion(heap: ReceivedProfile, assessment: Assessment, at: number): void {
    const verdict = assessment.heap.verdict;
    if (verdict === "Suspected" || verdict === "Leaking") {
      this.suspectedBase ??= { compressed: heap.compressed, at };
    } else if (verdict === "Healthy") {
      this.suspectedBase = undefined;
    }
  }
}

function isLeaking(a: Assessment | undefined): boolean {
  return a?.heap.verdict === "Leaking" || a?.goroutines.verdict === "Leaking";
}

function metricView(a: Assessment["heap"] | undefined): MetricView | undefined {
  if (a === undefined) return undefined;
  return {
    verdict: a.verdict,
    tier: a.tier,
    slopePerHour: a.slopePerHour,
    slopePercentPerHour: a.slopePercentPerHour,
    timeToCeilingMs: a.timeToCeilingMs,
  };
}
