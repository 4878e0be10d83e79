// Where the operator's CPU time and live memory go: the profiles the inspector recorded, reduced to
// the top functions and files (paths relative to the repository; node internals and dependencies
// by package).
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";
import type { CpuProfile, SamplingHeapNode, SamplingHeapProfile } from "./inspector.ts";

export interface Hotspot {
  what: string;
  /** ms of CPU (cpu profile) or bytes (heap profile). */
  amount: number;
  share: number;
}

function place(url: string): string {
  if (url === "") return "(native/V8)";
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = path.slice(nm + "/node_modules/".length).split("/");
    const pkg = rest[0]?.startsWith("@") === true ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? "");
    return `${pkg} (dependency)`;
  }
  if (path.startsWith(`${REPO_ROOT}/`)) return path.slice(REPO_ROOT.length + 1);
  return path;
}

function top(map: Map<string, number>, total: number, n: number): Hotspot[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([what, amount]) => ({ what, amount, share: total > 0 ? amount / total : 0 }));
}

/**
 * Self time per function and per file, and inclusive time of the project's own functions (src/):
 * what each costs with everything it calls.
 */
export function cpuHotspots(
  profile: CpuProfile,
  n = 20,
): { totalMs: number; functions: Hotspot[]; files: Hotspot[]; inclusive: Hotspot[] } {
  const samples = profile.nodes.reduce((s, node) => s + (node.hitCount ?? 0), 0);
  const msPerSample = samples > 0 ? (profile.endTime - profile.startTime) / 1000 / samples : 0;
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const children = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  const roots = profile.nodes.filter((node) => !children.has(node.id));
  let busy = 0;
  const stack = roots.map((node) => ({ node, ours: [] as string[] }));
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node } = item;
    const { functionName, url } = node.callFrame;
    const where = place(url);
    const fn = frameName(node.callFrame);
    const ours = where.startsWith("src/") && !item.ours.includes(fn) ? [...item.ours, fn] : item.ours;
    for (const id of node.children ?? []) {
      const child = byId.get(id);
      if (child !== undefined) stack.push({ node: child, ours });
    }
    const ms = (node.hitCount ?? 0) * msPerSample;
    if (ms === 0 || functionName === "(idle)" || functionName === "(program)") continue;
    busy += ms;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
    const file = functionName === "(garbage collector)" ? "(garbage collector)" : where;
    files.set(file, (files.get(file) ?? 0) + ms);
    for (const f of ours) inclusive.set(f, (inclusive.get(f) ?? 0) + ms);
  }
  return {
    totalMs: busy,
    functions: top(functions, busy, n),
    files: top(files, busy, n),
    inclusive: top(inclusive, busy, n),
  };
}

function frameName(frame: SamplingHeapNode["callFrame"]): string {
  const where = place(frame.url);
  return `${frame.functionName === "" ? "(anonymous)" : frame.functionName} ${where}${frame.url === "" ? "" : `:${frame.lineNumber + 1}`}`;
}

/**
 * Live sampled bytes per allocating function, and per "owner": the innermost frame of the
 * project's own code (src/) on the allocation's stack, which says what the memory is for.
 */
export function heapHotspots(
  profile: SamplingHeapProfile,
  n = 20,
): { totalBytes: number; functions: Hotspot[]; owners: Hotspot[] } {
  const functions = new Map<string, number>();
  const owners = new Map<string, number>();
  let total = 0;
  const stack: { node: SamplingHeapNode; owner: string }[] = [
    { node: profile.head, owner: "(outside src/)" },
  ];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node } = item;
    const ours = place(node.callFrame.url).startsWith("src/");
    const owner = ours ? frameName(node.callFrame) : item.owner;
    for (const child of node.children) stack.push({ node: child, owner });
    if (node.selfSize === 0) continue;
    total += node.selfSize;
    const fn = frameName(node.callFrame);
    functions.set(fn, (functions.get(fn) ?? 0) + node.selfSize);
    owners.set(owner, (owners.get(owner) ?? 0) + node.selfSize);
  }
  return { totalBytes: total, functions: top(functions, total, n), owners: top(owners, total, n) };
}
