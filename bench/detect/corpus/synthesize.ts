// Turns a SeriesPlan into samples: live heap = base × warm-up × load + sawtooth + bursts + step + leak,
// observed = live × GC overshoot, with spikes, glitches, missing scrapes, restarts and OOM kills.
import type { Sample } from "../../../src/detect/index.ts";
import type { SeriesPlan } from "./plan.ts";
import type { Random } from "./random.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Burst {
  readonly fromMs: number;
  readonly rampMs: number;
  readonly holdMs: number;
  readonly height: number;
}

/** Healthy traffic bursts are drawn up front so the heap model stays a pure function of time. */
function drawBursts(plan: SeriesPlan, rng: Random): Burst[] {
  const bursts: Burst[] = [];
  if (plan.bursts === null) return bursts;
  const meanGap = HOUR / plan.bursts.perHour;
  for (let at = rng.exponential(meanGap); at < plan.durationMs; at += rng.exponential(meanGap)) {
    bursts.push({
      fromMs: at,
      rampMs: rng.uniform(1, 5) * 60_000,
      holdMs: rng.logUniform(5 * 60_000, plan.bursts.maxHoldMs),
      height: rng.uniform(0.1, plan.bursts.maxHeight),
    });
  }
  return bursts;
}

function burstHeight(bursts: readonly Burst[], offset: number): number {
  let height = 0;
  for (const b of bursts) {
    const x = offset - b.fromMs;
    if (x < 0 || x > 2 * b.rampMs + b.holdMs) continue;
    const up = Math.min(1, x / b.rampMs);
    const down = Math.min(1, Math.max(0, (2 * b.rampMs + b.holdMs - x) / b.rampMs));
    height += b.height * Math.min(up, down);
  }
  return height;
}

export interface SynthesizedSeries {
  readonly samples: Sample[];
}

export function synthesize(plan: SeriesPlan, rng: Random): SynthesizedSeries {
  const samples: Sample[] = [];
  const bursts = drawBursts(plan, rng);
  const restarts = [...plan.restartsAtMs];
  const ouDecay = Math.exp(-plan.intervalMs / plan.traffic.tauMs);
  const ouStep = plan.traffic.sigma * Math.sqrt(1 - ouDecay * ouDecay);

  let ou = plan.traffic.sigma * rng.normal();
  let containerStart = 0;
  let leaked = 0;
  let leakedGoroutines = 0;
  let pendingRestart: "restart" | "oom" | null = null;
  let downUntil = -1;
  // Sawtooth teeth vary ±20% in length; the phase restarts with the container.
  let toothStart = 0;
  let toothLength = plan.sawtooth === null ? 0 : plan.sawtooth.periodMs * rng.uniform(0.8, 1.2);

  for (let offset = 0; offset < plan.durationMs; offset += plan.intervalMs) {
    ou = ou * ouDecay + ouStep * rng.normal();
    const t = plan.startMs + offset;
    if (restarts.length > 0 && offset >= (restarts[0] ?? Infinity)) {
      restarts.shift();
      containerStart = offset;
      leaked = 0;
      leakedGoroutines = 0;
      toothStart = offset;
      pendingRestart = "restart";
    }
    if (offset < downUntil) continue;

    const age = offset - containerStart;
    const warm = 1 - (1 - plan.warmup.startFraction) * Math.exp(-age / plan.warmup.tauMs);
    const diurnal =
      plan.diurnal === null
        ? 0
        : plan.diurnal.amplitude * Math.sin((2 * Math.PI * t) / DAY + plan.diurnal.phase);
    const load = Math.max(0.2, 1 + diurnal + ou);

    let extra = burstHeight(bursts, offset);
    if (plan.sawtooth !== null) {
      while (offset - toothStart >= toothLength) {
        toothStart += toothLength;
        toothLength = plan.sawtooth.periodMs * rng.uniform(0.8, 1.2);
      }
      extra += (plan.sawtooth.amplitude * (offset - toothStart)) / toothLength;
    }
    if (plan.step !== null && offset >= plan.step.atMs) {
      extra += plan.step.height * Math.min(1, (offset - plan.step.atMs) / plan.step.rampMs);
    }

    const leak = plan.heapLeak;
    const leakStart = leak === null ? Infinity : Math.max(leak.onsetMs, containerStart);
    if (leak !== null && offset >= leakStart && offset > 0) {
      const due = (leak.ratePerHour * plan.baseBytes * plan.intervalMs) / HOUR;
      if (leak.burstsPerHour === null) {
        leaked += due;
      } else if (rng.chance((leak.burstsPerHour * plan.intervalMs) / HOUR)) {
        leaked += rng.exponential((leak.ratePerHour * plan.baseBytes) / leak.burstsPerHour);
      }
    }
    const gLeak = plan.goroutines.leak;
    if (gLeak !== null && offset >= Math.max(gLeak.onsetMs, containerStart) && offset > 0) {
      leakedGoroutines += (gLeak.perHour * plan.intervalMs) / HOUR;
    }

    const live = plan.baseBytes * (warm * load + extra) + leaked;
    if (live * (1 + plan.gcOvershoot) >= plan.ceilingBytes) {
      if (!plan.oomRestarts) break; // killed: the series ends, and a detector that waited missed it
      // CrashLoop: the container comes back one to three minutes later.
      downUntil = offset + rng.int(1, 3) * plan.intervalMs;
      containerStart = downUntil;
      leaked = 0;
      leakedGoroutines = 0;
      toothStart = downUntil;
      pendingRestart = "oom";
      continue;
    }

    if (rng.chance(plan.missingChance)) continue;
    if (plan.outages.some((o) => offset >= o.fromMs && offset < o.toMs)) continue;

    let observed = live * (1 + plan.gcOvershoot * rng.next()) * (1 + 0.003 * rng.normal());
    if (rng.chance(plan.spikeChance)) observed *= rng.uniform(1.3, 2.5);
    else if (rng.chance(plan.lowGlitchChance)) observed *= rng.uniform(0.2, 0.45);

    const g = plan.goroutines;
    const goroutines = Math.max(
      1,
      Math.round(
        g.base * (1 + g.loadFollow * (load - 1)) + 0.3 * Math.sqrt(g.base) * rng.normal() + leakedGoroutines,
      ),
    );

    const sample: Sample = { t, heapInuseBytes: Math.round(observed), goroutines };
    if (pendingRestart !== null) {
      samples.push({ ...sample, restart: true, ...(pendingRestart === "oom" ? { oomKilled: true } : {}) });
      pendingRestart = null;
    } else {
      samples.push(sample);
    }
  }
  return { samples };
}
