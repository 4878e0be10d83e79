// The CRD's defaults and src/api/defaults.ts must agree: the API server fills in the first, the
// controller falls back to the second when reading objects written before a field existed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULTS, resolveSpec, SpecError } from "../../../src/api/index.ts";
import { REPO_ROOT } from "../../../src/localcluster/binaries.ts";

interface Schema {
  default?: unknown;
  properties?: Record<string, Schema>;
}

const crd = parse(readFileSync(join(REPO_ROOT, "crds/leakwatch.dev_leakwatches.yaml"), "utf8")) as {
  spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
};
const spec = crd.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec;

function schemaDefault(path: string): unknown {
  let node: Schema | undefined = spec;
  for (const part of path.split(".")) node = node?.properties?.[part];
  return node?.default;
}

describe("defaults", () => {
  it.each([
    ["target.heapPath", DEFAULTS.heapPath],
    ["target.goroutinePath", DEFAULTS.goroutinePath],
    ["target.scheme", DEFAULTS.scheme],
    ["target.timeout", DEFAULTS.timeout],
    ["target.via", DEFAULTS.via],
    ["interval", DEFAULTS.interval],
    ["detection.window", DEFAULTS.window],
    ["detection.warmup", DEFAULTS.warmup],
    ["detection.minGrowthPerHour", DEFAULTS.minGrowthPerHour],
    ["detection.minGrowthPercentPerHour", DEFAULTS.minGrowthPercentPerHour],
    ["detection.sensitivity", DEFAULTS.sensitivity],
    ["detection.minGoroutineGrowthPerHour", DEFAULTS.minGoroutineGrowthPerHour],
    ["detection.memoryModel.gcHeadroomPercent", DEFAULTS.gcHeadroomPercent],
    ["detection.memoryModel.runtimeOverhead", DEFAULTS.runtimeOverhead],
    ["action.mode", DEFAULTS.mode],
    ["action.restart.strategy", DEFAULTS.strategy],
    ["action.restart.trigger", DEFAULTS.trigger],
    ["action.restart.maxUnavailable", DEFAULTS.maxUnavailable],
    ["action.restart.cooldown", DEFAULTS.cooldown],
    ["action.restart.budget.restarts", DEFAULTS.budgetRestarts],
    ["action.restart.budget.per", DEFAULTS.budgetPer],
    ["captures.keep", DEFAULTS.capturesKeep],
    ["captures.maxBytes", DEFAULTS.capturesMaxBytes],
  ])("CRD default of %s matches src/api", (path, value) => {
    expect(schemaDefault(path)).toEqual(value);
  });

  it("resolves a minimal spec to settings in ms and bytes", () => {
    const settings = resolveSpec({ selector: {} });
    expect(settings.intervalMs).toBe(60_000);
    expect(settings.detection.windowMs).toBe(7_200_000);
    expect(settings.detection.minGrowthBytesPerHour).toBe(2 ** 20);
    expect(settings.action).toEqual({ mode: "Record" });
    expect(settings.captures).toEqual({ keep: 5, maxBytes: 4 * 2 ** 20 });
  });

  it("resolves restart settings, windows and time zones", () => {
    const settings = resolveSpec({
      selector: {},
      action: {
        mode: "Restart",
        restart: {
          trigger: "BeforeOOM",
          oomHorizon: "2h",
          windows: [{ days: ["Mon", "Fri"], start: "22:00", end: "06:00", timeZone: "Europe/Berlin" }],
        },
      },
    });
    if (settings.action.mode !== "Restart") throw new Error("expected Restart");
    expect(settings.action.restart.oomHorizonMs).toBe(7_200_000);
    expect(settings.action.restart.windows[0]).toMatchObject({
      startMinute: 1320,
      endMinute: 360,
      timeZone: "Europe/Berlin",
    });
    expect([...(settings.action.restart.windows[0]?.days ?? [])].sort()).toEqual([1, 5]);
  });

  it.each([
    [{ selector: {}, action: { mode: "Restart" as const } }, "spec.action.restart"],
    [{ selector: {}, action: { restart: {} } }, "spec.action.restart"],
    [{ selector: {}, interval: "60s", detection: { window: "5m" } }, "spec.detection.window"],
    [
      {
        selector: {},
        action: {
          mode: "Restart" as const,
          restart: { windows: [{ start: "09:00", end: "17:00", timeZone: "Mars/Olympus" }] },
        },
      },
      "spec.action.restart.windows[0].timeZone",
    ],
  ])("refuses what CEL would, naming the field (%#)", (bad, field) => {
    expect(() => resolveSpec(bad)).toThrow(SpecError);
    try {
      resolveSpec(bad);
    } catch (err) {
      expect((err as SpecError).field).toBe(field);
    }
  });
});
