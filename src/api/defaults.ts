// Defaults for every optional LeakWatch field, and the resolution of a spec into the settings the
// controller runs with (durations in ms, quantities in bytes). The CRD declares the same defaults;
// test/unit/api checks that the two agree.
import { parseDuration } from "./duration.ts";
import { SpecError } from "./errors.ts";
import { parseQuantity } from "./quantity.ts";
import type {
  LabelSelector,
  LeakWatchSpec,
  RestartStrategy,
  RestartTrigger,
  RestartWindow,
  Scheme,
  SecretKeyRef,
  Sensitivity,
  Via,
} from "./types.ts";

export const DEFAULTS = {
  heapPath: "/debug/pprof/heap",
  goroutinePath: "/debug/pprof/goroutine",
  goroutineLeakPath: "",
  scheme: "http",
  timeout: "10s",
  via: "Direct",
  interval: "60s",
  window: "2h",
  warmup: "10m",
  minGrowthPerHour: "1Mi",
  minGrowthPercentPerHour: 1,
  sensitivity: "Medium",
  minGoroutineGrowthPerHour: 10,
  gcHeadroomPercent: 100,
  runtimeOverhead: "16Mi",
  mode: "Record",
  strategy: "Evict",
  trigger: "Confirmed",
  maxUnavailable: 1,
  cooldown: "1h",
  budgetRestarts: 3,
  budgetPer: "24h",
  capturesKeep: 5,
  capturesMaxBytes: "4Mi",
} as const;

export interface TargetSettings {
  port: number | string | undefined;
  container: string | undefined;
  heapPath: string;
  /** "" = goroutine tracking off. */
  goroutinePath: string;
  /** "" = not scraped. */
  goroutineLeakPath: string;
  allowNonPprofPaths: boolean;
  scheme: Scheme;
  timeoutMs: number;
  forceGC: boolean;
  via: Via;
  bearerTokenSecret: SecretKeyRef | undefined;
  caSecret: SecretKeyRef | undefined;
  serverName: string | undefined;
}

export interface DetectionSettings {
  windowMs: number;
  warmupMs: number;
  minGrowthBytesPerHour: number;
  minGrowthPercentPerHour: number;
  sensitivity: Sensitivity;
  minGoroutineGrowthPerHour: number;
  gcHeadroomPercent: number;
  runtimeOverheadBytes: number;
}

export interface RestartWindowSettings {
  days: ReadonlySet<number>;
  startMinute: number;
  endMinute: number;
  timeZone: string;
}

export interface RestartSettings {
  strategy: RestartStrategy;
  trigger: RestartTrigger;
  oomHorizonMs: number | undefined;
  maxUnavailable: number;
  cooldownMs: number;
  budgetRestarts: number;
  budgetPerMs: number;
  windows: RestartWindowSettings[];
  dryRun: boolean;
}

export type ActionSettings = { mode: "Record" } | { mode: "Restart"; restart: RestartSettings };

export interface WatchSettings {
  selector: LabelSelector;
  target: TargetSettings;
  intervalMs: number;
  detection: DetectionSettings;
  action: ActionSettings;
  captures: { keep: number; maxBytes: number };
  suspend: boolean;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/**
 * Resolves a spec into settings. The API server's CEL rules already refuse most bad specs; this
 * re-checks what CEL cannot (time zones) and guards against objects written before the CRD was.
 */
export function resolveSpec(spec: LeakWatchSpec): WatchSettings {
  const t = spec.target ?? {};
  const d = spec.detection ?? {};
  const intervalMs = parseDuration(spec.interval ?? DEFAULTS.interval, "spec.interval");
  const windowMs = parseDuration(d.window ?? DEFAULTS.window, "spec.detection.window");
  if (intervalMs < 1_000) throw new SpecError("spec.interval", "must be at least 1s");
  if (windowMs < 10 * intervalMs) {
    throw new SpecError("spec.detection.window", "must hold at least 10 scrape intervals");
  }
  return {
    selector: spec.selector,
    target: {
      port: t.port,
      container: t.container,
      heapPath: t.heapPath ?? DEFAULTS.heapPath,
      goroutinePath: t.goroutinePath ?? DEFAULTS.goroutinePath,
      goroutineLeakPath: t.goroutineLeakPath ?? DEFAULTS.goroutineLeakPath,
      allowNonPprofPaths: t.allowNonPprofPaths ?? false,
      scheme: t.scheme ?? DEFAULTS.scheme,
      timeoutMs: parseDuration(t.timeout ?? DEFAULTS.timeout, "spec.target.timeout"),
      forceGC: t.forceGC ?? false,
      via: t.via ?? DEFAULTS.via,
      bearerTokenSecret: t.auth?.bearerTokenSecret,
      caSecret: t.auth?.caSecret,
      serverName: t.auth?.serverName,
    },
    intervalMs,
    detection: {
      windowMs,
      warmupMs: parseDuration(d.warmup ?? DEFAULTS.warmup, "spec.detection.warmup"),
      minGrowthBytesPerHour: parseQuantity(
        d.minGrowthPerHour ?? DEFAULTS.minGrowthPerHour,
        "spec.detection.minGrowthPerHour",
      ),
      minGrowthPercentPerHour: d.minGrowthPercentPerHour ?? DEFAULTS.minGrowthPercentPerHour,
      sensitivity: d.sensitivity ?? DEFAULTS.sensitivity,
      minGoroutineGrowthPerHour: d.minGoroutineGrowthPerHour ?? DEFAULTS.minGoroutineGrowthPerHour,
      gcHeadroomPercent: d.memoryModel?.gcHeadroomPercent ?? DEFAULTS.gcHeadroomPercent,
      runtimeOverheadBytes: parseQuantity(
        d.memoryModel?.runtimeOverhead ?? DEFAULTS.runtimeOverhead,
        "spec.detection.memoryModel.runtimeOverhead",
      ),
    },
    action: resolveAction(spec),
    captures: {
      keep: spec.captures?.keep ?? DEFAULTS.capturesKeep,
      maxBytes: parseQuantity(spec.captures?.maxBytes ?? DEFAULTS.capturesMaxBytes, "spec.captures.maxBytes"),
    },
    suspend: spec.suspend ?? false,
  };
}

function resolveAction(spec: LeakWatchSpec): ActionSettings {
  const mode = spec.action?.mode ?? DEFAULTS.mode;
  const r = spec.action?.restart;
  if (mode === "Record") {
    if (r !== undefined)
      throw new SpecError("spec.action.restart", "only allowed when action.mode is Restart");
    return { mode };
  }
  if (r === undefined) throw new SpecError("spec.action.restart", "required when action.mode is Restart");
  const trigger = r.trigger ?? DEFAULTS.trigger;
  if (trigger === "BeforeOOM" && r.oomHorizon === undefined) {
    throw new SpecError("spec.action.restart.oomHorizon", "required when trigger is BeforeOOM");
  }
  const budgetRestarts = r.budget?.restarts ?? DEFAULTS.budgetRestarts;
  if (budgetRestarts < 1) throw new SpecError("spec.action.restart.budget.restarts", "must be at least 1");
  return {
    mode,
    restart: {
      strategy: r.strategy ?? DEFAULTS.strategy,
      trigger,
      oomHorizonMs:
        r.oomHorizon === undefined
          ? undefined
          : parseDuration(r.oomHorizon, "spec.action.restart.oomHorizon"),
      maxUnavailable: r.maxUnavailable ?? DEFAULTS.maxUnavailable,
      cooldownMs: parseDuration(r.cooldown ?? DEFAULTS.cooldown, "spec.action.restart.cooldown"),
      budgetRestarts,
      budgetPerMs: parseDuration(r.budget?.per ?? DEFAULTS.budgetPer, "spec.action.restart.budget.per"),
      windows: (r.windows ?? []).map((w, i) => resolveWindow(w, `spec.action.restart.windows[${i}]`)),
      dryRun: r.dryRun ?? false,
    },
  };
}

function resolveWindow(w: RestartWindow, field: string): RestartWindowSettings {
  const timeZone = w.timeZone ?? "UTC";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    throw new SpecError(`${field}.timeZone`, `"${timeZone}" is not a known IANA time zone`);
  }
  const days = new Set((w.days ?? WEEKDAYS).map((day) => WEEKDAYS.indexOf(day)));
  return {
    days,
    startMinute: minuteOfDay(w.start, `${field}.start`),
    endMinute: minuteOfDay(w.end, `${field}.end`),
    timeZone,
  };
}

function minuteOfDay(text: string, field: string): number {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (match === null) throw new SpecError(field, `"${text}" is not a time of day (HH:MM, 24h)`);
  return Number(match[1]) * 60 + Number(match[2]);
}
