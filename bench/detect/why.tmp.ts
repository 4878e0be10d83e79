// tmp: why are fast leaks slow? reason histogram between onset and call.
import { createSeriesState, observe, resolveDetectorConfig, formatDuration } from "../../src/detect/index.ts";
import { createRandom } from "./corpus/random.ts";
import { scenarios } from "./corpus/scenarios.ts";
import { synthesize } from "./corpus/synthesize.ts";
const set = process.argv[2] ?? "tune";
const minRate = Number(process.argv[3] ?? "10");
const filter = process.argv[4];
const EPOCH_MS = Date.UTC(2026, 0, 1);
const hist = new Map<string, number>();
const rows: string[] = [];
const norm = (r: string) => r.replace(/[\d.]+(%|MiB|GiB|KiB|h|m|s)?/g, "#").slice(0, 90);
for (const sc of scenarios) {
  if (!sc.heapLeaks) continue;
  if (filter && sc.name !== filter) continue;
  for (let i = 0; i < sc.count; i++) {
    const id = `${set}/${sc.name}/${i}`;
    const rng = createRandom(id);
    const startMs = EPOCH_MS + Math.floor(rng.uniform(0, 24 * 60)) * 60000;
    const plan = sc.plan(rng, startMs);
    if (plan.heapLeak === null || plan.heapLeak.ratePerHour * 100 < minRate) continue;
    const { samples } = synthesize(plan, rng);
    const bg = plan.sawtooth ? "saw" : plan.bursts ? "burst" : plan.gcOvershoot > 0.35 ? "heavygc" : "plain";
    const onset = startMs + plan.heapLeak.onsetMs;
    const config = resolveDetectorConfig({ heapCeilingBytes: plan.ceilingBytes });
    const state = createSeriesState();
    let at: number | null = null;
    const local = new Map<string, number>();
    for (const s of samples) {
      const a = observe(state, s, config);
      if (s.t < onset) continue;
      if (a.heap.verdict === "Leaking") { at = s.t; break; }
      const key = `${a.heap.verdict}: ${norm(a.heap.reasons.filter((r) => !r.startsWith("slow growth can")).slice(-1)[0] ?? "")}`;
      local.set(key, (local.get(key) ?? 0) + 1);
    }
    for (const [k, v] of local) hist.set(k, (hist.get(k) ?? 0) + v);
    const top = [...local.entries()].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([k, v]) => `${v}×${k}`).join(" ; ");
    const late = plan.heapLeak.onsetMs >= 3600000 ? "late" : "start";
    rows.push(`${id.padEnd(32)} ${(plan.heapLeak.ratePerHour*100).toFixed(0).padStart(3)}%/h ${bg.padEnd(7)} ${late} ${at === null ? "MISS" : formatDuration(at - onset)} len ${formatDuration((samples.at(-1)?.t ?? 0) - onset)} | ${top}`);
  }
}
console.log(rows.join("\n"));
console.log("\nreason histogram (samples):");
for (const [k, v] of [...hist.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(String(v).padStart(7), k);
