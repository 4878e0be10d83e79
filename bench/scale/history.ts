// Mature detector history for every target, written into the LeakWatch's state ConfigMaps before an
// operator starts, so the operator restores it (the same path as after a restart or a leader
// change) and is measured holding what a long-running replica holds — two daily load cycles of
// downsampled series — instead of the handful of samples a few minutes of benchmark would give.
import { resolveSpec } from "../../src/api/defaults.ts";
import type { LeakWatch } from "../../src/api/types.ts";
import { LeakWatchRuntime } from "../../src/controller/runtime.ts";
import type { PersistedTarget } from "../../src/controller/target-watch.ts";
import { createSeriesState, observe, serializeSeriesState } from "../../src/detect/index.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { StateStore, type SaveResult } from "../../src/kube/statestore.ts";
import { LEAKWATCH, NAMESPACE, podName, type PodRecord } from "./cluster.ts";

/** Distinct series per profile class; targets share them round-robin (the content is what costs). */
const SERIES_PER_CLASS = 8;
const DAY_MS = 24 * 3_600_000;

/** A healthy Go service for `hours`: a daily load cycle of ±20% around `level`, with noise. */
export function matureSeries(lw: LeakWatch, level: number, seed: number, hours: number, end: number): string {
  const runtime = new LeakWatchRuntime(lw);
  runtime.configure(resolveSpec(lw.spec));
  const { settings, detector } = runtime;
  if (settings === undefined || detector === undefined) throw new Error("the LeakWatch spec did not resolve");
  const state = createSeriesState();
  let rng = seed * 2654435761 + 1;
  const noise = (): number => {
    rng = (rng * 1103515245 + 12345) % 2147483648;
    return rng / 2147483648 - 0.5;
  };
  const phase = (seed % 24) / 24;
  for (let t = end - hours * 3_600_000; t <= end; t += settings.intervalMs) {
    const cycle = Math.sin(2 * Math.PI * (t / DAY_MS + phase));
    observe(
      state,
      {
        t,
        heapInuseBytes: Math.round(level * (1 + 0.2 * cycle + 0.1 * noise())),
        goroutines: 30 + (seed % 5) + Math.round(4 * noise()),
      },
      detector,
    );
  }
  return serializeSeriesState(state);
}

export interface SeededHistory {
  result: SaveResult;
  /** Raw JSON bytes of one target's persisted state (mean). */
  bytesPerTarget: number;
}

/**
 * Writes `hours` of history for pods 0..count-1 into the LeakWatch's state store, ending now.
 * `levels` are the in-use heap bytes the fleet serves to small and large targets, so the live
 * scrapes continue the series where it ends.
 */
export async function seedHistory(
  client: KubeClient,
  pods: readonly PodRecord[],
  count: number,
  hours: number,
  levels: { small: number; large: number },
): Promise<SeededHistory> {
  const lw = await client.get<LeakWatch>(
    `/apis/leakwatch.dev/v1alpha1/namespaces/${NAMESPACE}/leakwatches/${LEAKWATCH}`,
  );
  const end = Date.now();
  const small = Array.from({ length: SERIES_PER_CLASS }, (_, k) =>
    matureSeries(lw, levels.small, k, hours, end),
  );
  const large = Array.from({ length: SERIES_PER_CLASS }, (_, k) =>
    matureSeries(lw, levels.large, 100 + k, hours, end),
  );
  const entries = new Map<string, string>();
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const pod = pods[i];
    if (pod === undefined) throw new Error(`pod ${podName(i)} was not created`);
    const series = (i % 10 === 0 ? large : small)[Math.floor(i / 10) % SERIES_PER_CLASS] ?? "";
    const persisted: PersistedTarget = {
      podUID: pod.uid,
      restartCount: 0,
      startedAt: pod.startedAt,
      series,
    };
    const text = JSON.stringify(persisted);
    bytes += text.length;
    entries.set(`${NAMESPACE}/${podName(i)}/app`, text);
  }
  const store = new StateStore({
    client,
    owner: { namespace: NAMESPACE, name: LEAKWATCH, uid: lw.metadata.uid ?? "" },
  });
  const result = await store.save(entries);
  return { result, bytesPerTarget: bytes / Math.max(1, count) };
}
