// A growth episode survives an operator restart: the events already sent come back from the
// persisted state, the capture from the stored captures — so neither is repeated.
import { describe, expect, it } from "vitest";
import type { CaptureRef } from "../../../src/api/types.ts";
import { newEpisode, parseEpisode, persistEpisode, restoreEpisode } from "../../../src/controller/episode.ts";

const growing = (since: number | null) => ({
  verdict: "Leaking" as const,
  tier: "fast" as const,
  growingSince: since,
});
const idle = { verdict: "Healthy" as const, tier: null, growingSince: null };
const capture = (name: string, pod: string, time: number): CaptureRef => ({
  name,
  pod,
  time: new Date(time).toISOString(),
  headline: "",
  bytes: 1,
  complete: true,
});

describe("restoreEpisode", () => {
  it("finds the newest stored capture of this pod taken since the growth began", () => {
    const e = restoreEpisode(undefined, [growing(1_000), idle], "p", [
      capture("old", "p", 500),
      capture("other-pod", "q", 2_000),
      capture("mine", "p", 1_500),
      capture("newer", "p", 1_800),
    ]);
    expect(e.capture?.name).toBe("newer");
  });

  it("keeps the events already sent, and starts afresh when nothing is growing any more", () => {
    const saved = persistEpisode({ ...newEpisode(), leakingNotified: true, capture: { name: "c" } });
    expect(parseEpisode(JSON.parse(JSON.stringify(saved)))).toEqual(saved);
    const restored = restoreEpisode(saved, [growing(null), idle], "p", [capture("c", "p", 1)]);
    expect(restored).toMatchObject({
      leakingNotified: true,
      suspectedNotified: false,
      capture: { name: "c" },
    });
    expect(restoreEpisode(saved, [idle, idle], "p", [capture("c", "p", 1)])).toEqual(newEpisode());
  });

  it("reads state written before episodes were kept", () => {
    expect(parseEpisode(undefined)).toBeUndefined();
    expect(restoreEpisode(undefined, [growing(10), idle], "p", [])).toEqual(newEpisode());
  });
});
