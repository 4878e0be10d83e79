import { describe, expect, it } from "vitest";
import { ScrapeScheduler } from "../../../src/controller/scheduler.ts";
import { FakeClock, settle as flush } from "../../harness/fake-clock.ts";

function seq(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

describe("scrape scheduler", () => {
  it("spreads first runs over one period and then keeps each job's phase", async () => {
    const clock = new FakeClock(0);
    const runs: [string, number][] = [];
    const s = new ScrapeScheduler({ concurrency: 10, clock, random: seq([0.1, 0.5, 0.9]) });
    for (const key of ["a", "b", "c"]) {
      s.upsert(key, 1_000, () => {
        runs.push([key, clock.now()]);
        return Promise.resolve(undefined);
      });
    }
    await clock.advance(2_999);
    expect(runs).toEqual([
      ["a", 100],
      ["b", 500],
      ["c", 900],
      ["a", 1_100],
      ["b", 1_500],
      ["c", 1_900],
      ["a", 2_100],
      ["b", 2_500],
      ["c", 2_900],
    ]);
    await s.stop();
  });

  it("never runs more than the concurrency limit at once, and reports the lag", async () => {
    const clock = new FakeClock(0);
    let running = 0;
    let peak = 0;
    const lags: number[] = [];
    const s = new ScrapeScheduler({
      concurrency: 2,
      clock,
      random: () => 0,
      onStart: (_k, lag) => lags.push(lag),
    });
    const gates: (() => void)[] = [];
    for (let i = 0; i < 5; i++) {
      s.upsert(`t${i}`, 10_000, async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => gates.push(r));
        running--;
        return undefined;
      });
    }
    await clock.advance(1);
    expect(running).toBe(2);
    await clock.advance(50);
    for (const open of gates.splice(0)) open();
    await flush();
    expect(running).toBe(2);
    for (const open of gates.splice(0)) open();
    await flush();
    for (const open of gates.splice(0)) open();
    await flush();
    expect(peak).toBe(2);
    expect(lags.slice(0, 2)).toEqual([0, 0]);
    expect(Math.max(...lags)).toBeGreaterThanOrEqual(50);
    await s.stop();
  });

  it("skips slots missed by a long run instead of piling up, and honours a backoff delay", async () => {
    const clock = new FakeClock(0);
    const starts: number[] = [];
    let slow = true;
    const s = new ScrapeScheduler({ concurrency: 1, clock, random: () => 0 });
    s.upsert("x", 1_000, async () => {
      starts.push(clock.now());
      if (slow) {
        slow = false;
        await new Promise<void>((r) => clock.setTimeout(r, 2_500));
        return undefined;
      }
      return { delayMs: 5_000 };
    });
    await clock.advance(10_000);
    expect(starts).toEqual([0, 3_000, 8_000]);
    await s.stop();
  });

  it("removes jobs, runs soon on request, and stops cleanly while a job runs", async () => {
    const clock = new FakeClock(0);
    const runs: string[] = [];
    const s = new ScrapeScheduler({ concurrency: 4, clock, random: () => 0.5 });
    s.upsert("keep", 1_000, () => {
      runs.push(`keep@${clock.now()}`);
      return Promise.resolve(undefined);
    });
    s.upsert("drop", 1_000, () => {
      runs.push("drop");
      return Promise.resolve(undefined);
    });
    s.remove("drop");
    s.runSoon("keep");
    await clock.advance(0);
    let aborted = false;
    s.upsert("long", 1_000, async (signal) => {
      await new Promise<void>((r) => {
        signal.addEventListener("abort", () => {
          r();
        });
      });
      aborted = true;
      return undefined;
    });
    await clock.advance(600);
    await s.stop();
    expect(aborted).toBe(true);
    // runSoon moved the first run from 500 to 0; the next is one period later, after stop().
    expect(runs).toEqual(["keep@0"]);
    expect(s.size).toBe(0);
  });
});
