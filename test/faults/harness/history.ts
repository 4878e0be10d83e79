// Detector history as the operator persisted it (the state ConfigMaps), read with the product's
// own store and parser, and the check that a restart lost no more than what came after the last
// persist: the restored series continues the persisted one (same segment, same blocks), and the
// only samples gone are those taken between the last persist and the fault.
import { parsePersisted } from "../../../src/controller/runtime.ts";
import { restoreSeriesState } from "../../../src/detect/index.ts";
import type { KubeClient } from "../../../src/kube/client.ts";
import { StateStore } from "../../../src/kube/statestore.ts";

export interface SeriesDigest {
  podUID: string;
  /** Time of the last sample folded in. */
  lastT: number;
  segmentStart: number | null;
  /** Times of the closed blocks (three-interval medians) in the window. */
  blockTimes: number[];
  /** Raw samples in the open block plus three per closed block: roughly the samples it stands for. */
  samples: number;
  verdict: string;
}

export async function persistedHistory(
  client: KubeClient,
  owner: { namespace: string; name: string; uid: string },
): Promise<Map<string, SeriesDigest>> {
  const loaded = await new StateStore({ client, owner }).load();
  const out = new Map<string, SeriesDigest>();
  for (const [key, text] of loaded.entries) {
    const entry = parsePersisted(text);
    if (entry === undefined) continue;
    const s = restoreSeriesState(entry.series);
    out.set(key, {
      podUID: entry.podUID,
      lastT: s.lastT ?? 0,
      segmentStart: s.segmentStart,
      blockTimes: [...s.blocks.t],
      samples: s.open.t.length + 3 * s.blocks.t.length,
      verdict: s.heap.verdict,
    });
  }
  return out;
}

export interface ContinuityResult {
  violations: string[];
  /** Per target: seconds between the last persisted sample and the last sample taken before the fault. */
  lostSeconds: number;
}

/**
 * `before`: what was persisted when the fault hit; `after`: what the next operator persisted
 * later. `lastSampleBefore`: per target key, when the faulted operator last sampled it.
 * `windowMs`: blocks older than the window may have been dropped legitimately. `faultAt`: a
 * new segment that starts later is the detector's (a heap drop), one that starts earlier is a loss.
 */
export function checkContinuity(
  before: ReadonlyMap<string, SeriesDigest>,
  after: ReadonlyMap<string, SeriesDigest>,
  lastSampleBefore: ReadonlyMap<string, number>,
  windowMs: number,
  boundS: number,
  faultAt: number,
): ContinuityResult {
  const violations: string[] = [];
  let lost = 0;
  if (before.size === 0) violations.push("nothing was persisted before the fault");
  for (const [key, p] of before) {
    const n = after.get(key);
    if (n === undefined) {
      violations.push(`${key}: history gone after the restart`);
      continue;
    }
    if (n.podUID !== p.podUID) continue;
    if (!(n.lastT > p.lastT)) violations.push(`${key}: no new samples after the restart`);
    if (n.segmentStart !== p.segmentStart) {
      // A segment that began after the fault is the detector's own doing (a heap drop), not a loss.
      if ((n.segmentStart ?? 0) <= faultAt)
        violations.push(`${key}: restarted blind (segment ${p.segmentStart} became ${n.segmentStart})`);
      continue;
    }
    const kept = new Set(n.blockTimes);
    const missing = p.blockTimes.filter((t) => t >= n.lastT - windowMs && !kept.has(t));
    if (missing.length > 0)
      violations.push(`${key}: ${missing.length} persisted blocks missing after restore`);
    const last = lastSampleBefore.get(key);
    if (last !== undefined) lost = Math.max(lost, (last - p.lastT) / 1000);
  }
  if (lost > boundS)
    violations.push(`${lost.toFixed(1)} s of history lost, over the ${boundS} s persist bound`);
  return { violations, lostSeconds: Math.max(0, lost) };
}
