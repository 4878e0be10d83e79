// Random histories — verdicts, readiness, clock steps, API failures (owner reads, 429/500 on
// evictions and rollouts, lost answers), status writes refused, and operator restarts that keep
// only what reached the status — run through the real RestartCoordinator against a simulated
// cluster (restart-sim.ts). Whatever happens, no restart ever exceeds maxUnavailable, leaves a
// workload without a Ready replica, breaks the budget or a cooldown, skips the evidence before
// the critical point, or ignores the trigger, an opt-out, a snooze, a window or dry run.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SimWorld, type ApiMode, type SimScenario, type SimStep } from "./restart-sim.ts";

const MINUTE = 60_000;
/** Seeded, so a failure reproduces; LEAKWATCH_PROPERTY_SEED explores other histories. */
const SEED = Number(process.env.LEAKWATCH_PROPERTY_SEED ?? 20_251_128);
const RUNS = 2_500;

const api: fc.Arbitrary<ApiMode> = fc.oneof(
  { weight: 12, arbitrary: fc.constant("ok" as const) },
  { weight: 3, arbitrary: fc.constant("429" as const) },
  { weight: 1, arbitrary: fc.constant("500" as const) },
  { weight: 1, arbitrary: fc.constant("lostBefore" as const) },
  { weight: 1, arbitrary: fc.constant("lostAfter" as const) },
  { weight: 1, arbitrary: fc.constant("crashBefore" as const) },
  { weight: 1, arbitrary: fc.constant("crashAfter" as const) },
);

const chance = (percent: number): fc.Arbitrary<boolean> =>
  fc.integer({ min: 0, max: 99 }).map((n) => n < percent);

const step: fc.Arbitrary<SimStep> = fc.record({
  dtMs: fc.oneof(fc.integer({ min: 500, max: 5_000 }), fc.integer({ min: 500, max: 60_000 })),
  jumpMs: fc.oneof(
    { weight: 20, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -30 * MINUTE, max: 30 * MINUTE }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 * 60 * MINUTE }) },
  ),
  restartOperator: chance(5),
  pick: fc.nat(),
  leaking: chance(85),
  ttlMinutes: fc.option(fc.integer({ min: 0, max: 120 }), { freq: 3 }),
  captured: chance(60),
  flips: fc.oneof(
    { weight: 8, arbitrary: fc.constant<number[]>([]) },
    { weight: 1, arbitrary: fc.array(fc.nat(), { maxLength: 2 }) },
  ),
  api: fc.array(api, { maxLength: 3 }),
  reads: fc.array(
    fc.oneof(
      { weight: 15, arbitrary: fc.constant("ok" as const) },
      { weight: 1, arbitrary: fc.constant("fail" as const) },
    ),
    { maxLength: 4 },
  ),
  statusWrite: fc.constantFrom("ok" as const, "ok" as const, "ok" as const, "ok" as const, "fail" as const),
  watchDownFor: fc.oneof(
    { weight: 30, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 10 }) },
  ),
  staleScrape: chance(4),
});

const window = fc.record({
  start: fc.constantFrom("08:00", "12:00", "22:00"),
  end: fc.constantFrom("09:00", "14:00", "02:00"),
  timeZone: fc.constantFrom("UTC", "Europe/Berlin", "America/New_York"),
});

const scenario: fc.Arbitrary<SimScenario> = fc.record({
  restart: fc
    .record({
      strategy: fc.constantFrom("Evict" as const, "RolloutRestart" as const),
      beforeOOM: chance(30),
      maxUnavailable: fc.integer({ min: 1, max: 3 }),
      cooldown: fc.constantFrom("0s", "30s", "5m", "1h"),
      budget: fc.record({
        restarts: fc.integer({ min: 1, max: 4 }),
        per: fc.constantFrom("5m", "1h", "24h"),
      }),
      windows: fc.oneof(
        { weight: 4, arbitrary: fc.constant<{ start: string; end: string; timeZone: string }[]>([]) },
        { weight: 1, arbitrary: fc.array(window, { minLength: 1, maxLength: 2 }) },
      ),
      dryRun: chance(10),
    })
    .map(({ beforeOOM, windows, ...r }) => ({
      ...r,
      ...(beforeOOM ? { trigger: "BeforeOOM" as const, oomHorizon: "30m" } : {}),
      windows: windows.filter((w) => w.start !== w.end),
    })),
  intervalS: fc.constantFrom(1, 10, 30, 60),
  replicas: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
  optOutEvery: fc.constantFrom(0, 0, 0, 4, 7),
  snoozeEvery: fc.constantFrom(0, 0, 4),
  snoozeMs: fc.integer({ min: 0, max: 60 * MINUTE }),
  memoryLimitEvery: fc.constantFrom(0, 1, 2),
  // Less than the shortest settle time (15 s): a status that lags longer is a stale status.
  statusLagMs: fc.integer({ min: 0, max: 14_000 }),
  cacheLagTicks: fc.integer({ min: 0, max: 2 }),
  replicaSetLagMs: fc.integer({ min: 0, max: 20_000 }),
  maxStepBackMs: fc.constant(30 * MINUTE),
  steps: fc.array(step, { minLength: 10, maxLength: 80, size: "max" }),
});

describe("restart coordinator: properties over random histories", () => {
  it("never breaks a guardrail", async () => {
    let restarts = 0;
    let histories = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const world = new SimWorld(sc);
        await world.run();
        histories++;
        restarts += world.performed.length;
        expect(world.violations).toEqual([]);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false },
    );
    // The histories must actually restart things, or the properties prove nothing.
    expect(histories).toBe(RUNS);
    expect(restarts).toBeGreaterThan(1_000);
  });
});
