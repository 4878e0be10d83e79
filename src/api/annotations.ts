// Pod annotations: our own `leakwatch.dev/*` keys, and the keys continuous profilers already use
// (Grafana Alloy / Pyroscope, Parca) so annotated pods work unchanged. Precedence, highest first:
// leakwatch.dev/* → profiles.grafana.com/* → parca.dev/* → the LeakWatch's spec.target.
import type { TargetSettings } from "./defaults.ts";
import type { Scheme } from "./types.ts";

export const ANNOTATIONS = {
  scrape: "leakwatch.dev/scrape",
  port: "leakwatch.dev/port",
  path: "leakwatch.dev/path",
  goroutinePath: "leakwatch.dev/goroutine-path",
  scheme: "leakwatch.dev/scheme",
  container: "leakwatch.dev/container",
  restart: "leakwatch.dev/restart",
  snoozeUntil: "leakwatch.dev/snooze-until",
} as const;

const GRAFANA = "profiles.grafana.com";
const PARCA = "parca.dev";

/** Annotation values longer than this are ignored, with a reason: every external input is bounded. */
export const MAX_ANNOTATION_VALUE = 256;

export interface PodEndpoint {
  /** Port number or container port name. */
  port: number | string | undefined;
  /** Port for the goroutine profile when a profiler annotation names a separate one. */
  goroutinePort: number | string | undefined;
  heapPath: string;
  /** "" = goroutine tracking off for this pod. */
  goroutinePath: string;
  scheme: Scheme;
  container: string | undefined;
}

export interface PodOptIn {
  optedIn: boolean;
  /** Which key opted the pod in (or out), for status and events. */
  source: string | undefined;
}

export interface PodAnnotationProblem {
  key: string;
  message: string;
}

type Annotations = Readonly<Record<string, string>>;

function read(annotations: Annotations, key: string, problems: PodAnnotationProblem[]): string | undefined {
  const value = annotations[key];
  if (value === undefined) return undefined;
  if (value.length > MAX_ANNOTATION_VALUE) {
    problems.push({ key, message: `longer than ${MAX_ANNOTATION_VALUE} characters; ignored` });
    return undefined;
  }
  return value.trim();
}

function first(
  annotations: Annotations,
  keys: readonly string[],
  problems: PodAnnotationProblem[],
): string | undefined {
  for (const key of keys) {
    const value = read(annotations, key, problems);
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}

/** A pod is watched only if it opts in; `leakwatch.dev/scrape: "false"` opts out whatever else says. */
export function podOptIn(annotations: Annotations): PodOptIn {
  const ignored: PodAnnotationProblem[] = [];
  for (const key of [ANNOTATIONS.scrape, `${GRAFANA}/memory.scrape`, `${PARCA}/scrape`]) {
    const value = read(annotations, key, ignored)?.toLowerCase();
    if (value === "true") return { optedIn: true, source: key };
    if (value === "false") return { optedIn: false, source: key };
  }
  return { optedIn: false, source: undefined };
}

function parsePort(
  value: string | undefined,
  key: string,
  problems: PodAnnotationProblem[],
): number | string | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) {
    const port = Number(value);
    if (port >= 1 && port <= 65_535) return port;
    problems.push({ key, message: `port ${value} is out of range` });
    return undefined;
  }
  if (/^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(value)) return value;
  problems.push({ key, message: `"${value}" is neither a port number nor a port name` });
  return undefined;
}

function parsePath(
  value: string | undefined,
  key: string,
  problems: PodAnnotationProblem[],
): string | undefined {
  if (value === undefined) return undefined;
  if (value.startsWith("/") && !/[\s?#]/.test(value)) return value;
  problems.push({ key, message: `"${value}" is not an absolute URL path` });
  return undefined;
}

function parseScheme(
  value: string | undefined,
  key: string,
  problems: PodAnnotationProblem[],
): Scheme | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === "http" || lower === "https") return lower;
  problems.push({ key, message: `scheme "${value}" is not http or https` });
  return undefined;
}

/**
 * Where a pod serves its profiles: its annotations over the LeakWatch's target. Bad annotation
 * values are reported in `problems` and fall back to the next source, never to a guess.
 */
export function podEndpoint(
  annotations: Annotations,
  target: TargetSettings,
): { endpoint: PodEndpoint; problems: PodAnnotationProblem[] } {
  const problems: PodAnnotationProblem[] = [];
  const port =
    parsePort(read(annotations, ANNOTATIONS.port, problems), ANNOTATIONS.port, problems) ??
    parsePort(
      first(annotations, [`${GRAFANA}/memory.port`, `${GRAFANA}/memory.port_name`], problems),
      `${GRAFANA}/memory.port`,
      problems,
    ) ??
    parsePort(read(annotations, `${PARCA}/port`, problems), `${PARCA}/port`, problems) ??
    target.port;
  const goroutinePort = parsePort(
    first(annotations, [`${GRAFANA}/goroutine.port`, `${GRAFANA}/goroutine.port_name`], problems),
    `${GRAFANA}/goroutine.port`,
    problems,
  );
  const heapPath =
    parsePath(
      first(annotations, [ANNOTATIONS.path, `${GRAFANA}/memory.path`], problems),
      ANNOTATIONS.path,
      problems,
    ) ?? target.heapPath;
  // The LeakWatch's empty goroutinePath is the one switch that turns goroutines off everywhere.
  const goroutinePath =
    target.goroutinePath === ""
      ? ""
      : (parsePath(
          first(annotations, [ANNOTATIONS.goroutinePath, `${GRAFANA}/goroutine.path`], problems),
          ANNOTATIONS.goroutinePath,
          problems,
        ) ?? target.goroutinePath);
  const scheme =
    parseScheme(
      first(annotations, [ANNOTATIONS.scheme, `${GRAFANA}/memory.scheme`], problems),
      ANNOTATIONS.scheme,
      problems,
    ) ?? target.scheme;
  const container = read(annotations, ANNOTATIONS.container, problems) ?? target.container;
  return { endpoint: { port, goroutinePort, heapPath, goroutinePath, scheme, container }, problems };
}

/** `leakwatch.dev/restart: "false"` keeps a pod out of restarts (it is still watched and reported). */
export function restartOptedOut(annotations: Annotations): boolean {
  return annotations[ANNOTATIONS.restart]?.trim().toLowerCase() === "false";
}

/**
 * `leakwatch.dev/snooze-until` (RFC 3339): no actions or warnings before that instant.
 * An unreadable value snoozes nothing and is reported, so a typo cannot silence alarms forever.
 */
export function snoozedUntil(annotations: Annotations): {
  until: number | undefined;
  problem: string | undefined;
} {
  const value = annotations[ANNOTATIONS.snoozeUntil];
  if (value === undefined) return { until: undefined, problem: undefined };
  const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
  const until = rfc3339.test(value.trim()) ? Date.parse(value.trim()) : Number.NaN;
  if (Number.isNaN(until))
    return { until: undefined, problem: `"${value.slice(0, 64)}" is not an RFC 3339 time` };
  return { until, problem: undefined };
}
