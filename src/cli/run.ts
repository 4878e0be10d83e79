// `leakwatch run`: the operator. Every flag can also come from the environment as
// LEAKWATCH_<FLAG> (e.g. LEAKWATCH_CONCURRENCY=64); flags win.
import { pino } from "pino";
import { SpecError } from "../api/errors.ts";
import { parseQuantity } from "../api/quantity.ts";
import { leaseIdentity } from "../kube/lease.ts";
import {
  CONFIG_DEFAULTS,
  ConfigError,
  parseBindAddress,
  validateConfig,
  type ControllerConfig,
} from "../controller/config.ts";
import { startManager } from "../controller/manager.ts";
import { oneOf, parseFlags, positiveInt } from "./args.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";

const USAGE = `usage: leakwatch run [flags]

  --kubeconfig PATH                 kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --context NAME                    kubeconfig context
  --namespaces a,b                  watch only these namespaces (default: all)
  --metrics-bind-address [HOST]:PORT  /metrics, /healthz, /readyz (default :8080)
  --leader-elect true|false         elect one active replica with a Lease (default true)
  --leader-election-namespace NS    the Lease's namespace (default $POD_NAMESPACE, else "default")
  --leader-election-id NAME         the Lease's name (default leakwatch-controller)
  --concurrency N                   scrapes in flight (default 32)
  --max-inflight-profile-bytes Q    inflated profile bytes all scrapes in flight may hold, as a
                                    quantity (default 16Mi; 4Mi..1Ti); scrapes wait for room
  --weigh-sampling-error true|false the detector weighs each heap profile's sampling error
                                    (default false; docs/detection.md, "Sampling noise")
  --log-level LEVEL                 trace, debug, info, warn, error, fatal (default info)
`;

const FLAGS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  namespaces: { type: "string" },
  "metrics-bind-address": { type: "string" },
  "leader-elect": { type: "string" },
  "leader-election-namespace": { type: "string" },
  "leader-election-id": { type: "string" },
  concurrency: { type: "string" },
  "max-inflight-profile-bytes": { type: "string" },
  "weigh-sampling-error": { type: "string" },
  "reconcile-concurrency": { type: "string" },
  "status-min-interval": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type FlagName = Exclude<keyof typeof FLAGS, "help">;

function bool(flag: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new UsageError(`--${flag} must be true or false, got ${JSON.stringify(value)}`);
}

function quantity(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  try {
    return parseQuantity(value, `--${flag}`);
  } catch (err) {
    if (err instanceof SpecError) throw new UsageError(`--${flag}: ${err.message}`);
    throw err;
  }
}

export function configFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ControllerConfig | "help" {
  const { values } = parseFlags(argv, FLAGS, USAGE);
  if (values.help === true) return "help";
  const get = (name: FlagName): string | undefined => {
    const flag = values[name];
    if (typeof flag === "string") return flag;
    return env[`LEAKWATCH_${name.toUpperCase().replace(/-/g, "_")}`];
  };
  const bind = parseBindAddress(get("metrics-bind-address") ?? `:${CONFIG_DEFAULTS.metricsPort}`);
  const namespaces = (get("namespaces") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return validateConfig({
    kubeconfig: get("kubeconfig"),
    context: get("context"),
    namespaces,
    metricsHost: bind.host,
    metricsPort: bind.port,
    leaderElect: bool("leader-elect", get("leader-elect"), CONFIG_DEFAULTS.leaderElect),
    leaseNamespace: get("leader-election-namespace") ?? env.POD_NAMESPACE ?? "default",
    leaseName: get("leader-election-id") ?? CONFIG_DEFAULTS.leaseName,
    identity: leaseIdentity(env.POD_NAME),
    concurrency: positiveInt("concurrency", get("concurrency"), CONFIG_DEFAULTS.concurrency),
    maxInflightProfileBytes: quantity(
      "max-inflight-profile-bytes",
      get("max-inflight-profile-bytes"),
      CONFIG_DEFAULTS.maxInflightProfileBytes,
    ),
    weighSamplingError: bool(
      "weigh-sampling-error",
      get("weigh-sampling-error"),
      CONFIG_DEFAULTS.weighSamplingError,
    ),
    reconcileConcurrency: positiveInt(
      "reconcile-concurrency",
      get("reconcile-concurrency"),
      CONFIG_DEFAULTS.reconcileConcurrency,
    ),
    statusMinIntervalMs:
      positiveInt(
        "status-min-interval",
        get("status-min-interval"),
        CONFIG_DEFAULTS.statusMinIntervalMs / 1000,
      ) * 1000,
    persistEveryIntervals: CONFIG_DEFAULTS.persistEveryIntervals,
    logLevel: oneOf(
      "log-level",
      get("log-level"),
      ["trace", "debug", "info", "warn", "error", "fatal"],
      CONFIG_DEFAULTS.logLevel,
    ),
    leaseDurationMs: CONFIG_DEFAULTS.leaseDurationMs,
    renewDeadlineMs: CONFIG_DEFAULTS.renewDeadlineMs,
    retryPeriodMs: CONFIG_DEFAULTS.retryPeriodMs,
  });
}

export const run: Command = async (argv, io) => {
  let config: ControllerConfig | "help";
  try {
    config = configFromArgs(argv, io.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  if (config === "help") {
    io.stdout.write(USAGE);
    return 0;
  }
  const logger = pino({ level: config.logLevel, base: { identity: config.identity } }, io.stdout);
  const handle = await startManager(config, logger, io.signal);
  return handle.done;
};
