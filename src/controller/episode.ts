// What a target is still owed in its current growth episode (from first suspicion to recovery),
// and how an episode survives an operator restart or a leader change: the events already sent are
// persisted with the detector state (at least once: a restart after the last persist may repeat
// one), and the capture is found among the stored captures (exactly once: a stored capture of this
// episode is never taken again).
import type { CaptureRef } from "../api/types.ts";
import type { SeriesState } from "../detect/index.ts";
import type { SavedCapture } from "../kube/captures.ts";

/** What a target is owed in its current growth episode. */
export interface Episode {
  suspectedNotified: boolean;
  leakingNotified: boolean;
  goroutinesNotified: boolean;
  capture: Pick<SavedCapture, "name"> | undefined;
  captureFailures: number;
  lastCaptureError: string | undefined;
}

/** The part of an episode kept with the detector state. */
export interface PersistedEpisode {
  suspectedNotified: boolean;
  leakingNotified: boolean;
  goroutinesNotified: boolean;
  capture?: string;
}

export function newEpisode(): Episode {
  return {
    suspectedNotified: false,
    leakingNotified: false,
    goroutinesNotified: false,
    capture: undefined,
    captureFailures: 0,
    lastCaptureError: undefined,
  };
}

export function persistEpisode(e: Episode): PersistedEpisode {
  return {
    suspectedNotified: e.suspectedNotified,
    leakingNotified: e.leakingNotified,
    goroutinesNotified: e.goroutinesNotified,
    ...(e.capture === undefined ? {} : { capture: e.capture.name }),
  };
}

export function parseEpisode(value: unknown): PersistedEpisode | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const flag = (k: string): boolean => v[k] === true;
  return {
    suspectedNotified: flag("suspectedNotified"),
    leakingNotified: flag("leakingNotified"),
    goroutinesNotified: flag("goroutinesNotified"),
    ...(typeof v.capture === "string" ? { capture: v.capture } : {}),
  };
}

/**
 * The episode a restored target is in. None unless its restored verdicts say it is still growing;
 * then the persisted flags, and the newest stored capture of this pod taken since the growth began
 * (or the one the persisted episode names).
 */
export function restoreEpisode(
  saved: PersistedEpisode | undefined,
  memories: readonly SeriesState["heap"][],
  pod: string,
  captures: readonly CaptureRef[],
): Episode {
  const episode = newEpisode();
  const growing = memories.filter((m) => m.verdict === "Suspected" || m.verdict === "Leaking");
  if (growing.length === 0) return episode;
  if (saved !== undefined) {
    episode.suspectedNotified = saved.suspectedNotified;
    episode.leakingNotified = saved.leakingNotified;
    episode.goroutinesNotified = saved.goroutinesNotified;
  }
  const since = Math.min(...growing.map((m) => m.growingSince ?? Number.POSITIVE_INFINITY));
  let found: CaptureRef | undefined;
  for (const c of captures) {
    if (c.pod !== pod) continue;
    const at = Date.parse(c.time);
    const ours = at >= since || c.name === saved?.capture;
    if (ours && (found === undefined || at > Date.parse(found.time))) found = c;
  }
  if (found !== undefined) episode.capture = { name: found.name };
  return episode;
}
