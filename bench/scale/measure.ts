// One measurement window at one scale: readings before and after, turned into the figures the
// report prints. Process CPU and RSS come from /proc, the rest from the operator's and the API
// server's /metrics. The bench itself calls nothing in the API during a window except /metrics.
import { buckets, bucketDelta, parseProm, quantile, sum, type PromSample } from "./prom.ts";

/** API resources the operator reads and writes (it runs with --leader-elect=false, so no Lease);
 * the API server's own traffic (its identity leases, endpoints,
 * flow-control status) is left out, and so is anything non-resource (/metrics, /healthz). */
const OPERATOR_RESOURCES = new Set(["pods", "leakwatches", "configmaps", "events", "secrets"]);
const READ_VERBS = new Set(["GET", "LIST"]);
const WRITE_VERBS = new Set([
  "POST",
  "CREATE",
  "PUT",
  "UPDATE",
  "PATCH",
  "APPLY",
  "DELETE",
  "DELETECOLLECTION",
]);

export interface Reading {
  at: number;
  cpuSeconds: number;
  operator: PromSample[];
  apiserver: PromSample[];
  fleetHeapServed: number;
  fleetBytes: number;
}

export interface ApiTraffic {
  readsPerMin: number;
  watchesPerMin: number;
  writesPerMin: number;
  /** Request bodies of those writes (apiserver_request_body_size_bytes), bytes per minute. */
  writeBytesPerMin: number;
  /** Writes per minute by verb and resource, e.g. "PATCH leakwatches/status". */
  writes: Record<string, number>;
}

export interface WindowFigures {
  seconds: number;
  scrapesPerMin: number;
  scrapeFailuresPerMin: number;
  goroutineScrapesPerMin: number;
  fleetProfilesPerMin: number;
  fleetMiBPerMin: number;
  cpuSeconds: number;
  cpuMsPerScrape: number;
  cpuCores: number;
  lagP50: number | undefined;
  lagP99: number | undefined;
  lagP99Bucket: string;
  api: ApiTraffic;
  /** The operator's own count of its writes, by kind (leakwatch_api_writes_total). */
  operatorWritesPerMin: Record<string, number>;
  heapUsedEnd: number;
  /** V8 heap reserved (nodejs_heap_size_total_bytes) and external memory, at the window's end. */
  heapTotalEnd: number;
  externalEnd: number;
}

function requestCounts(samples: readonly PromSample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== "apiserver_request_total") continue;
    const resource = s.labels.resource ?? "";
    if (!OPERATOR_RESOURCES.has(resource)) continue;
    const sub = s.labels.subresource ?? "";
    const key = `${s.labels.verb ?? ""} ${resource}${sub === "" ? "" : `/${sub}`}`;
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

function writeBodyBytes(samples: readonly PromSample[]): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== "apiserver_request_body_size_bytes_sum") continue;
    if (!OPERATOR_RESOURCES.has(s.labels.resource ?? "")) continue;
    if (WRITE_VERBS.has((s.labels.verb ?? "").toUpperCase())) total += s.value;
  }
  return total;
}

function apiTraffic(
  before: readonly PromSample[],
  after: readonly PromSample[],
  minutes: number,
): ApiTraffic {
  const b = requestCounts(before);
  const traffic: ApiTraffic = {
    readsPerMin: 0,
    watchesPerMin: 0,
    writesPerMin: 0,
    writeBytesPerMin: (writeBodyBytes(after) - writeBodyBytes(before)) / minutes,
    writes: {},
  };
  for (const [key, n] of requestCounts(after)) {
    const delta = (n - (b.get(key) ?? 0)) / minutes;
    if (delta <= 0) continue;
    const verb = key.split(" ")[0] ?? "";
    if (READ_VERBS.has(verb)) traffic.readsPerMin += delta;
    else if (verb === "WATCH") traffic.watchesPerMin += delta;
    else if (WRITE_VERBS.has(verb)) {
      traffic.writesPerMin += delta;
      traffic.writes[key] = delta;
    }
  }
  return traffic;
}

export function figures(before: Reading, after: Reading): WindowFigures {
  const seconds = (after.at - before.at) / 1000;
  const minutes = seconds / 60;
  const delta = (name: string, where?: (l: Readonly<Record<string, string>>) => boolean): number =>
    sum(after.operator, name, where) - sum(before.operator, name, where);
  const heapScrapes = delta("leakwatch_scrapes_total", (l) => l.kind === "heap");
  const failed = delta("leakwatch_scrapes_total", (l) => l.kind === "heap" && l.result !== "ok");
  const goroutine = delta("leakwatch_scrapes_total", (l) => l.kind === "goroutine");
  const cpu = after.cpuSeconds - before.cpuSeconds;
  const lag = bucketDelta(
    buckets(before.operator, "leakwatch_scrape_schedule_lag_seconds"),
    buckets(after.operator, "leakwatch_scrape_schedule_lag_seconds"),
  );
  const p99 = quantile(lag, 0.99);
  const writesByKind: Record<string, number> = {};
  for (const s of after.operator) {
    if (s.name !== "leakwatch_api_writes_total") continue;
    const kind = s.labels.kind ?? "";
    const was = sum(before.operator, "leakwatch_api_writes_total", (l) => l.kind === kind);
    if (s.value - was > 0) writesByKind[kind] = (s.value - was) / minutes;
  }
  return {
    seconds,
    scrapesPerMin: heapScrapes / minutes,
    scrapeFailuresPerMin: failed / minutes,
    goroutineScrapesPerMin: goroutine / minutes,
    fleetProfilesPerMin: (after.fleetHeapServed - before.fleetHeapServed) / minutes,
    fleetMiBPerMin: (after.fleetBytes - before.fleetBytes) / minutes / (1 << 20),
    cpuSeconds: cpu,
    cpuMsPerScrape: heapScrapes > 0 ? (cpu * 1000) / heapScrapes : Number.NaN,
    cpuCores: cpu / seconds,
    lagP50: quantile(lag, 0.5)?.value,
    lagP99: p99?.value,
    lagP99Bucket:
      p99 === undefined
        ? "-"
        : `${p99.lower}–${p99.upper === Number.POSITIVE_INFINITY ? "∞" : String(p99.upper)} s`,
    api: apiTraffic(before.apiserver, after.apiserver, minutes),
    operatorWritesPerMin: writesByKind,
    heapUsedEnd: sum(after.operator, "nodejs_heap_size_used_bytes"),
    heapTotalEnd: sum(after.operator, "nodejs_heap_size_total_bytes"),
    externalEnd: sum(after.operator, "nodejs_external_memory_bytes"),
  };
}

export function parseOperatorMetrics(text: string): PromSample[] {
  return parseProm(
    text,
    (name) =>
      name.startsWith("leakwatch_scrapes_total") ||
      name.startsWith("leakwatch_scrape_schedule_lag_seconds") ||
      name.startsWith("leakwatch_api_writes_total") ||
      name === "leakwatch_targets" ||
      name.startsWith("nodejs_heap_size") ||
      name === "nodejs_external_memory_bytes",
  );
}

export function parseApiServerMetrics(text: string): PromSample[] {
  return parseProm(
    text,
    (name) => name === "apiserver_request_total" || name === "apiserver_request_body_size_bytes_sum",
  );
}
