import { describe, expect, it } from "vitest";
import { podEndpoint, podOptIn, resolveSpec, restartOptedOut, snoozedUntil } from "../../../src/api/index.ts";

const target = resolveSpec({ selector: {}, target: { port: "http" } }).target;

describe("pod opt-in", () => {
  it.each([
    [{ "leakwatch.dev/scrape": "true" }, true, "leakwatch.dev/scrape"],
    [{ "profiles.grafana.com/memory.scrape": "true" }, true, "profiles.grafana.com/memory.scrape"],
    [{ "parca.dev/scrape": "true" }, true, "parca.dev/scrape"],
    [{ "leakwatch.dev/scrape": "false", "parca.dev/scrape": "true" }, false, "leakwatch.dev/scrape"],
    [{ "leakwatch.dev/scrape": "TRUE" }, true, "leakwatch.dev/scrape"],
    [{}, false, undefined],
  ])("%j → %s", (annotations, optedIn, source) => {
    expect(podOptIn(annotations)).toEqual({ optedIn, source });
  });
});

describe("pod endpoint", () => {
  it("falls back to the LeakWatch's target", () => {
    const { endpoint, problems } = podEndpoint({}, target);
    expect(endpoint).toMatchObject({
      port: "http",
      heapPath: "/debug/pprof/heap",
      goroutinePath: "/debug/pprof/goroutine",
      scheme: "http",
    });
    expect(problems).toEqual([]);
  });

  it("prefers leakwatch.dev keys over Grafana over Parca over the spec", () => {
    const all = {
      "leakwatch.dev/port": "7070",
      "profiles.grafana.com/memory.port": "8080",
      "parca.dev/port": "9090",
      "leakwatch.dev/path": "/debug/pprof/heap2",
      "profiles.grafana.com/memory.path": "/debug/pprof/other",
    };
    expect(podEndpoint(all, target).endpoint).toMatchObject({ port: 7070, heapPath: "/debug/pprof/heap2" });
    const { "leakwatch.dev/port": _a, "leakwatch.dev/path": _b, ...grafana } = all;
    expect(podEndpoint(grafana, target).endpoint).toMatchObject({
      port: 8080,
      heapPath: "/debug/pprof/other",
    });
    expect(podEndpoint({ "parca.dev/port": "9090" }, target).endpoint.port).toBe(9090);
    expect(podEndpoint({ "profiles.grafana.com/memory.port_name": "pprof" }, target).endpoint.port).toBe(
      "pprof",
    );
  });

  it("keeps goroutines off everywhere when the LeakWatch turns them off", () => {
    const off = resolveSpec({ selector: {}, target: { goroutinePath: "" } }).target;
    expect(
      podEndpoint({ "leakwatch.dev/goroutine-path": "/debug/pprof/goroutine" }, off).endpoint.goroutinePath,
    ).toBe("");
  });

  it("reports bad values and falls back instead of guessing", () => {
    const { endpoint, problems } = podEndpoint(
      {
        "leakwatch.dev/port": "99999",
        "leakwatch.dev/scheme": "ftp",
        "leakwatch.dev/path": "debug",
        "leakwatch.dev/container": "x".repeat(300),
      },
      target,
    );
    expect(endpoint).toMatchObject({
      port: "http",
      scheme: "http",
      heapPath: "/debug/pprof/heap",
      container: undefined,
    });
    expect(problems.map((p) => p.key).sort()).toEqual([
      "leakwatch.dev/container",
      "leakwatch.dev/path",
      "leakwatch.dev/port",
      "leakwatch.dev/scheme",
    ]);
  });
});

describe("restart opt-out and snooze", () => {
  it("reads the opt-out", () => {
    expect(restartOptedOut({ "leakwatch.dev/restart": "false" })).toBe(true);
    expect(restartOptedOut({ "leakwatch.dev/restart": "true" })).toBe(false);
    expect(restartOptedOut({})).toBe(false);
  });

  it("reads RFC 3339 snoozes and reports unreadable ones", () => {
    expect(snoozedUntil({ "leakwatch.dev/snooze-until": "2026-12-01T08:00:00Z" }).until).toBe(
      Date.parse("2026-12-01T08:00:00Z"),
    );
    expect(snoozedUntil({ "leakwatch.dev/snooze-until": "2026-12-01T09:00:00+01:00" }).until).toBe(
      Date.parse("2026-12-01T08:00:00Z"),
    );
    const bad = snoozedUntil({ "leakwatch.dev/snooze-until": "next tuesday" });
    expect(bad.until).toBeUndefined();
    expect(bad.problem).toMatch(/RFC 3339/);
  });
});
