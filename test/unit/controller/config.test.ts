import { describe, expect, it } from "vitest";
import { configFromArgs } from "../../../src/cli/run.ts";
import { UsageError } from "../../../src/cli/command.ts";
import {
  CONFIG_DEFAULTS,
  ConfigError,
  DEFAULT_MAX_INFLIGHT_PROFILE_BYTES,
  validateConfig,
  type ControllerConfig,
} from "../../../src/controller/config.ts";

const env = { POD_NAMESPACE: "leakwatch", POD_NAME: "leakwatch-0" };

function config(argv: string[], extraEnv: Record<string, string> = {}): ControllerConfig {
  const c = configFromArgs(argv, { ...env, ...extraEnv });
  if (c === "help") throw new Error("help");
  return c;
}

describe("--max-inflight-profile-bytes", () => {
  it("defaults to 16Mi", () => {
    expect(DEFAULT_MAX_INFLIGHT_PROFILE_BYTES).toBe(16 << 20);
    expect(config([]).maxInflightProfileBytes).toBe(CONFIG_DEFAULTS.maxInflightProfileBytes);
  });

  it("takes a Kubernetes quantity from the flag or the environment (the flag wins)", () => {
    expect(config(["--max-inflight-profile-bytes", "64Mi"]).maxInflightProfileBytes).toBe(64 << 20);
    expect(config([], { LEAKWATCH_MAX_INFLIGHT_PROFILE_BYTES: "48Mi" }).maxInflightProfileBytes).toBe(
      48 << 20,
    );
    expect(
      config(["--max-inflight-profile-bytes=32Mi"], { LEAKWATCH_MAX_INFLIGHT_PROFILE_BYTES: "48Mi" })
        .maxInflightProfileBytes,
    ).toBe(32 << 20);
  });

  it("is refused at start when it is not a quantity or too small to scrape a large profile", () => {
    expect(() => config(["--max-inflight-profile-bytes", "lots"])).toThrow(UsageError);
    expect(() => config(["--max-inflight-profile-bytes", "1Mi"])).toThrow(ConfigError);
    const base = config([]);
    expect(() => validateConfig({ ...base, maxInflightProfileBytes: 0.5 })).toThrow(ConfigError);
    expect(() => validateConfig({ ...base, maxInflightProfileBytes: 2 ** 41 })).toThrow(ConfigError);
    expect(validateConfig({ ...base, maxInflightProfileBytes: 4 << 20 }).maxInflightProfileBytes).toBe(
      4 << 20,
    );
  });
});

describe("--weigh-sampling-error", () => {
  it("is off by default, on by flag or environment, and refuses anything but true or false", () => {
    expect(config([]).weighSamplingError).toBe(false);
    expect(config(["--weigh-sampling-error", "true"]).weighSamplingError).toBe(true);
    expect(config([], { LEAKWATCH_WEIGH_SAMPLING_ERROR: "true" }).weighSamplingError).toBe(true);
    expect(() => config(["--weigh-sampling-error", "yes"])).toThrow(
      /--weigh-sampling-error must be true or false/,
    );
  });
});
