// What one synthetic series is made of. The generator (synthesize.ts) turns a plan into samples.

export interface WarmupPlan {
  /** Heap at container start, as a fraction of the settled heap. */
  readonly startFraction: number;
  /** Time constant of the exponential approach to the plateau. */
  readonly tauMs: number;
}

export interface SeriesPlan {
  readonly durationMs: number;
  readonly intervalMs: number;
  readonly startMs: number;
  readonly baseBytes: number;
  readonly warmup: WarmupPlan;
  /** Daily load cycle: heap × (1 + amplitude·sin(2π(t/24h) + phase)). */
  readonly diurnal: { readonly amplitude: number; readonly phase: number } | null;
  /** Traffic noise: an Ornstein–Uhlenbeck process on the load factor. */
  readonly traffic: { readonly sigma: number; readonly tauMs: number };
  /** GC overshoot: the sample lands anywhere between live and live·(1+gcOvershoot). */
  readonly gcOvershoot: number;
  /** Per-sample chance of a transient spike (×1.3–2.5) and of a low glitch (×0.2–0.45). */
  readonly spikeChance: number;
  readonly lowGlitchChance: number;
  /** Per-sample chance a scrape is missing, and longer outages. */
  readonly missingChance: number;
  readonly outages: readonly { readonly fromMs: number; readonly toMs: number }[];
  /** Periodic build-up and release (batch buffers, cache flushes), as a fraction of base. */
  readonly sawtooth: { readonly amplitude: number; readonly periodMs: number } | null;
  /** Healthy traffic bursts: heap rises quickly, holds, and falls back. */
  readonly bursts: {
    readonly perHour: number;
    readonly maxHeight: number;
    readonly maxHoldMs: number;
  } | null;
  /** A one-off step up that stays (a config change, a bigger cache size). */
  readonly step: { readonly atMs: number; readonly height: number; readonly rampMs: number } | null;
  /** Planned restarts (rollouts), as offsets from the start. */
  readonly restartsAtMs: readonly number[];
  readonly heapLeak: {
    readonly onsetMs: number;
    /** Fraction of base heap leaked per hour. */
    readonly ratePerHour: number;
    /** Leaked memory arrives in Poisson bursts instead of smoothly. */
    readonly burstsPerHour: number | null;
  } | null;
  readonly ceilingBytes: number;
  /** A leak scenario ends at the first OOM kill (a miss); an OOM-loop scenario restarts and goes on. */
  readonly oomRestarts: boolean;
  readonly goroutines: {
    readonly base: number;
    /** How strongly the count follows load. */
    readonly loadFollow: number;
    readonly leak: { readonly onsetMs: number; readonly perHour: number } | null;
  };
}
