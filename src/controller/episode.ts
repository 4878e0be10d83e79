// What a target is still owed in its current growth episode (from first suspicion to recovery).
import type { SavedCapture } from "../kube/captures.ts";

/** What a target is owed in its current growth episode. */
export interface Episode {
  suspectedNotified: boolean;
  leakingNotified: boolean;
  goroutinesNotified: boolean;
  capture: SavedCapture | undefined;
  captureFailures: number;
  lastCaptureError: string | undefined;
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
