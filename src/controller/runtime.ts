// Everything the controller holds for one LeakWatch while it leads: its resolved settings, its
// watched targets, its captures and persisted state. Reconcile updates it; scrapes read it.
import type { WatchSettings } from "../api/defaults.ts";
import type { CaptureRef, LeakWatch, RestartRecord } from "../api/types.ts";
import { resolveDetectorConfig, type DetectorConfig } from "../detect/index.ts";
import type { SkippedPod, Target } from "./targets.ts";
import type { PersistedTarget } from "./target-watch.ts";
import { TargetWatch } from "./target-watch.ts";
import { parseEpisode } from "./episode.ts";
import type { WatchPhase } from "./status.ts";
import type { LeakWatchRef } from "./actions.ts";

export class LeakWatchRuntime {
  readonly key: string;
  readonly ref: LeakWatchRef;
  settings: WatchSettings | undefined;
  detector: DetectorConfig | undefined;
  phase: WatchPhase = { kind: "Watching" };
  readonly targets = new Map<string, TargetWatch>();
  skipped: SkippedPod[] = [];
  captures: CaptureRef[] = [];
  /** Restart records (from status when loaded): budgets and cooldowns are computed from these. */
  restarts: RestartRecord[] = [];
  /** Persisted state, captures and restart records were read (once per leadership). */
  loaded = false;
  /** Persisted detector state, loaded once per leadership and claimed at the first sync. */
  restored: Map<string, PersistedTarget> | undefined;
  lastPersistAt = 0;
  lastSweepAt = 0;
  /** A scrape changed a verdict or failure state: status should be rebuilt. */
  statusDirty = true;

  constructor(lw: LeakWatch) {
    this.key = `${lw.metadata.namespace}/${lw.metadata.name}`;
    this.ref = { namespace: lw.metadata.namespace, name: lw.metadata.name, uid: lw.metadata.uid ?? "" };
  }

  /** Applies new settings; the detector config is rebuilt only when they changed. */
  configure(settings: WatchSettings): void {
    if (this.settings !== undefined && JSON.stringify(this.settings) === JSON.stringify(settings)) return;
    this.settings = settings;
    const d = settings.detection;
    this.detector = resolveDetectorConfig({
      windowMs: d.windowMs,
      warmupMs: d.warmupMs,
      sampleIntervalMs: settings.intervalMs,
      minGrowthBytesPerHour: d.minGrowthBytesPerHour,
      minGrowthPercentPerHour: d.minGrowthPercentPerHour,
      sensitivity: d.sensitivity,
      minGoroutineGrowthPerHour: d.minGoroutineGrowthPerHour,
    });
  }

  /**
   * Brings the watched set in line with discovery: new targets start (with restored history when
   * the pod is the same), known ones take the fresh pod data, a new pod UID under the same name
   * starts over, and vanished ones are returned for the caller to unschedule.
   */
  syncTargets(discovered: readonly Target[]): { added: TargetWatch[]; removed: TargetWatch[] } {
    const added: TargetWatch[] = [];
    const removed: TargetWatch[] = [];
    const seen = new Set<string>();
    for (const target of discovered) {
      seen.add(target.key);
      const existing = this.targets.get(target.key);
      if (existing !== undefined && existing.target.podUID === target.podUID) {
        existing.target = target;
        continue;
      }
      if (existing !== undefined) removed.push(existing);
      const restored = this.restored?.get(target.key);
      this.restored?.delete(target.key);
      const watch = new TargetWatch(target, restored, this.captures);
      this.targets.set(target.key, watch);
      added.push(watch);
    }
    for (const [key, watch] of this.targets) {
      if (!seen.has(key)) {
        this.targets.delete(key);
        removed.push(watch);
      }
    }
    // History of pods that are gone by the first sync after loading is not kept.
    this.restored = undefined;
    return { added, removed };
  }

  /** Removes every target (suspended, invalid spec, LeakWatch deleted). */
  clearTargets(): TargetWatch[] {
    const all = [...this.targets.values()];
    this.targets.clear();
    return all;
  }

  /** Detector state of every target, for the state store. */
  persistedEntries(): Map<string, string> {
    const entries = new Map<string, string>();
    for (const [key, watch] of this.targets) entries.set(key, JSON.stringify(watch.persisted()));
    return entries;
  }
}

export function parsePersisted(text: string): PersistedTarget | undefined {
  try {
    const v = JSON.parse(text) as Partial<PersistedTarget>;
    if (typeof v.podUID !== "string" || typeof v.series !== "string" || typeof v.restartCount !== "number")
      return undefined;
    const episode = parseEpisode(v.episode);
    return {
      podUID: v.podUID,
      series: v.series,
      restartCount: v.restartCount,
      startedAt: typeof v.startedAt === "number" ? v.startedAt : undefined,
      ...(episode === undefined ? {} : { episode }),
    };
  } catch {
    return undefined;
  }
}
