// Builds the labelled corpus: every series is reproducible from (set, scenario, index).
import { createRandom } from "./random.ts";
import { scenarios } from "./scenarios.ts";
import { synthesize } from "./synthesize.ts";
import type { LabelledSeries } from "./types.ts";

/** Tuning looked only at "tune"; the reported figures come from "report", never seen while tuning. */
export type CorpusSet = "tune" | "report";

const EPOCH_MS = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

export function generateCorpus(set: CorpusSet, scale = 1): LabelledSeries[] {
  const corpus: LabelledSeries[] = [];
  for (const scenario of scenarios) {
    const count = Math.max(1, Math.round(scenario.count * scale));
    for (let i = 0; i < count; i++) {
      const id = `${set}/${scenario.name}/${i}`;
      const rng = createRandom(id);
      const startMs = EPOCH_MS + Math.floor(rng.uniform(0, 24 * 60)) * MINUTE;
      const plan = scenario.plan(rng, startMs);
      const { samples } = synthesize(plan, rng);
      const heapLeak =
        scenario.heapLeaks && plan.heapLeak !== null
          ? { onsetMs: startMs + plan.heapLeak.onsetMs, ratePercentPerHour: plan.heapLeak.ratePerHour * 100 }
          : null;
      const g = plan.goroutines.leak;
      corpus.push({
        id,
        scenario: scenario.name,
        origin: "synthetic",
        samples,
        heapCeilingBytes: plan.ceilingBytes,
        heapLeak,
        goroutineLeak: g === null ? null : { onsetMs: startMs + g.onsetMs, ratePerHour: g.perHour },
      });
    }
  }
  return corpus;
}
