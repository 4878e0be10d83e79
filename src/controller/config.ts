// The operator's own configuration (`leakwatch run` flags and environment), validated once at start.

export interface ControllerConfig {
  kubeconfig: string | undefined;
  context: string | undefined;
  /** Watch only these namespaces (a namespace-scoped install); empty = all namespaces. */
  namespaces: readonly string[];
  metricsHost: string;
  metricsPort: number;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  /** This replica's identity in the Lease and in events. */
  identity: string;
  /** Scrapes in flight at once. */
  concurrency: number;
  /**
   * Inflated profile bytes all scrapes in flight may hold together (an InflightBudget); also the
   * most one profile may inflate to, when below the engine's own cap.
   */
  maxInflightProfileBytes: number;
  /**
   * Tell the detector each heap profile's sampling error (off by default: at the 1-minute windows of
   * demos and tests it hides slow leaks on small heaps; see docs/detection.md, "Sampling noise").
   */
  weighSamplingError: boolean;
  /** LeakWatch reconciles in flight at once. */
  reconcileConcurrency: number;
  /** Least time between two status writes of one LeakWatch (verdict changes excepted). */
  statusMinIntervalMs: number;
  /** Detector state is persisted every this many scrape intervals (and at least every 30 s). */
  persistEveryIntervals: number;
  logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  /** Leader lease timings (defaults 15 s / 10 s / 2 s). */
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "LW_CONFIG";
}

/**
 * The default budget of inflated profile bytes in flight, derived from the Helm chart's 512 MiB
 * memory limit. Per inflated byte held, a scrape costs at worst about 10 bytes: the message, up
 * to 8 of decode tables (TABLE_BYTES_PER_MESSAGE_BYTE, reached only by hostile profiles) and the
 * compressed copy kept for captures. 16 MiB × 10 = 160 MiB on top of the operator's own memory
 * (218 MiB peak RSS at 500 targets in docs/scaling.md, real scrapes included) is about 75% of
 * 512 MiB. Real heap profiles inflate to 0.1–4 MiB at 2–3 bytes per byte, so 32 scrapes of them
 * rarely wait. Scale it with the memory limit (about limit ÷ 32).
 */
export const DEFAULT_MAX_INFLIGHT_PROFILE_BYTES = 16 << 20;
/** Below this, a large Go service's heap profile (~4 MiB inflated) could not be scraped at all. */
export const MIN_INFLIGHT_PROFILE_BYTES = 4 << 20;

export const CONFIG_DEFAULTS = {
  metricsHost: "0.0.0.0",
  metricsPort: 8080,
  leaderElect: true,
  leaseName: "leakwatch-controller",
  concurrency: 32,
  maxInflightProfileBytes: DEFAULT_MAX_INFLIGHT_PROFILE_BYTES,
  weighSamplingError: false,
  reconcileConcurrency: 4,
  statusMinIntervalMs: 15_000,
  persistEveryIntervals: 3,
  logLevel: "info",
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
} as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function validateConfig(c: ControllerConfig): ControllerConfig {
  const fail = (message: string): never => {
    throw new ConfigError(message);
  };
  for (const ns of c.namespaces)
    if (!DNS_LABEL.test(ns)) fail(`--namespaces: "${ns}" is not a namespace name`);
  if (!Number.isInteger(c.metricsPort) || c.metricsPort < 0 || c.metricsPort > 65_535)
    fail("--metrics-bind-address: bad port");
  if (!Number.isInteger(c.concurrency) || c.concurrency < 1 || c.concurrency > 4096)
    fail("--concurrency must be 1..4096");
  if (
    !Number.isSafeInteger(c.maxInflightProfileBytes) ||
    c.maxInflightProfileBytes < MIN_INFLIGHT_PROFILE_BYTES ||
    c.maxInflightProfileBytes > 2 ** 40
  )
    fail("--max-inflight-profile-bytes must be 4Mi..1Ti");
  if (!Number.isInteger(c.reconcileConcurrency) || c.reconcileConcurrency < 1)
    fail("--reconcile-concurrency must be ≥ 1");
  if (c.leaderElect && !DNS_LABEL.test(c.leaseNamespace))
    fail("--leader-election-namespace is required (or set POD_NAMESPACE)");
  if (c.leaderElect && !/^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/.test(c.leaseName))
    fail("--leader-election-id is not a valid name");
  if (c.identity === "" || Buffer.byteLength(c.identity) > 128) fail("identity must be 1..128 bytes");
  if (!(c.retryPeriodMs < c.renewDeadlineMs && c.renewDeadlineMs < c.leaseDurationMs)) {
    fail("lease timings must satisfy retry < renew deadline < lease duration");
  }
  if (!(c.persistEveryIntervals >= 1)) fail("persist interval must be ≥ 1");
  return c;
}

/** Parses "host:port", ":port" or "port". */
export function parseBindAddress(text: string): { host: string; port: number } {
  const match = /^(?:(.*):)?(\d+)$/.exec(text.trim());
  if (match === null) throw new ConfigError(`"${text}" is not [host]:port`);
  const host =
    match[1] === undefined || match[1] === ""
      ? CONFIG_DEFAULTS.metricsHost
      : match[1].replace(/^\[|\]$/g, "");
  return { host, port: Number(match[2]) };
}
