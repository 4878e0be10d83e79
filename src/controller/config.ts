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

export const CONFIG_DEFAULTS = {
  metricsHost: "0.0.0.0",
  metricsPort: 8080,
  leaderElect: true,
  leaseName: "leakwatch-controller",
  concurrency: 32,
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
