// Reading summaries back from JSON (the controller persists them): shape-checked, typed errors.
import { InvalidSummaryError } from "./errors.ts";
import type { GoroutineSummary } from "./goroutines.ts";
import type { HeapSummary } from "./heap.ts";

type Json = Record<string, unknown>;

function object(v: unknown, what: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new InvalidSummaryError(`${what} is not an object`);
  return v as Json;
}

function num(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new InvalidSummaryError(`${what} is not a number`);
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== "boolean") throw new InvalidSummaryError(`${what} is not a boolean`);
  return v;
}

function numbers(v: unknown, what: string, length?: number): number[] {
  if (!Array.isArray(v)) throw new InvalidSummaryError(`${what} is not an array`);
  if (length !== undefined && v.length !== length)
    throw new InvalidSummaryError(`${what} has the wrong length`);
  return v.map((x, i) => num(x, `${what}[${i}]`));
}

function strings(v: unknown): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw new InvalidSummaryError("strings is not an array of strings");
  }
  return v;
}

function stringRefs(v: unknown, what: string, length: number, table: readonly string[]): number[] {
  const refs = numbers(v, what, length);
  for (const r of refs) {
    if (!Number.isInteger(r) || r < 0 || r >= table.length)
      throw new InvalidSummaryError(`${what} refers to string ${r}`);
  }
  return refs;
}

function header(v: unknown, kind: string): Json {
  const o = object(typeof v === "string" ? parse(v) : v, "summary");
  if (o.kind !== kind) throw new InvalidSummaryError(`kind is ${JSON.stringify(o.kind)}, expected "${kind}"`);
  if (o.version !== 1) throw new InvalidSummaryError(`unsupported version ${JSON.stringify(o.version)}`);
  return o;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidSummaryError("not JSON");
  }
}

/** A HeapSummary from its JSON text or parsed value. */
export function parseHeapSummary(v: unknown): HeapSummary {
  const o = header(v, "heap");
  const table = strings(o.strings);
  const sites = object(o.sites, "sites");
  const n = numbers(sites.bytes, "sites.bytes").length;
  const totals = object(o.totals, "totals");
  const other = object(o.other, "other");
  const fn = stringRefs(sites.function, "sites.function", n, table);
  const file = stringRefs(sites.file, "sites.file", n, table);
  const line = numbers(sites.line, "sites.line", n);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const key = `${fn[i] ?? 0}:${file[i] ?? 0}:${line[i] ?? 0}`;
    if (seen.has(key)) throw new InvalidSummaryError(`site ${i} repeats an earlier site`);
    seen.add(key);
  }
  return {
    kind: "heap",
    version: 1,
    timeNanos: num(o.timeNanos, "timeNanos"),
    symbolized: bool(o.symbolized, "symbolized"),
    inexact: bool(o.inexact, "inexact"),
    totals: Object.fromEntries(Object.entries(totals).map(([k, x]) => [k, num(x, `totals.${k}`)])),
    hasObjects: bool(o.hasObjects, "hasObjects"),
    strings: table,
    sites: {
      function: fn,
      file,
      line,
      bytes: numbers(sites.bytes, "sites.bytes", n),
      objects: numbers(sites.objects, "sites.objects", n),
    },
    other: {
      sites: num(other.sites, "other.sites"),
      bytes: num(other.bytes, "other.bytes"),
      objects: num(other.objects, "other.objects"),
    },
  };
}

/** A GoroutineSummary from its JSON text or parsed value. */
export function parseGoroutineSummary(v: unknown): GoroutineSummary {
  const o = header(v, "goroutine");
  const table = strings(o.strings);
  const groups = object(o.groups, "groups");
  const n = numbers(groups.count, "groups.count").length;
  const other = object(o.other, "other");
  if (typeof o.profileType !== "string") throw new InvalidSummaryError("profileType is not a string");
  return {
    kind: "goroutine",
    version: 1,
    profileType: o.profileType,
    timeNanos: num(o.timeNanos, "timeNanos"),
    total: num(o.total, "total"),
    symbolized: bool(o.symbolized, "symbolized"),
    strings: table,
    groups: {
      function: stringRefs(groups.function, "groups.function", n, table),
      file: stringRefs(groups.file, "groups.file", n, table),
      line: numbers(groups.line, "groups.line", n),
      state: stringRefs(groups.state, "groups.state", n, table),
      count: numbers(groups.count, "groups.count", n),
    },
    other: { groups: num(other.groups, "other.groups"), count: num(other.count, "other.count") },
  };
}
