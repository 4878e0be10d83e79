// Goroutine (and goroutineleak) profiles: one sample per distinct stack, value = count.
// Goroutines are grouped by where they block in application code — LeakProf's signal:
// "412 goroutines parked at main.worker (leak.go:31) in chan receive".
import { MissingSampleTypeError } from "./errors.ts";
import type { Frame } from "./frames.ts";
import { locationFrames, shortFile } from "./frames.ts";
import { compareStrings } from "./heap.ts";
import type { Profile } from "./profile.ts";

export const GOROUTINE_TYPES = ["goroutine", "goroutineleak"] as const;
export const DEFAULT_MAX_GROUPS = 100;
/** The site of goroutines the profile has no stack for (being created or exiting). */
export const NO_STACK = "<no stack>";

/** Runtime frames that name what a parked goroutine waits for; the outermost match wins. */
const WAIT_STATES: ReadonlyMap<string, string> = new Map([
  ["runtime.gopark", "parked"],
  ["runtime.goparkunlock", "parked"],
  ["runtime.chanrecv", "chan receive"],
  ["runtime.chanrecv1", "chan receive"],
  ["runtime.chanrecv2", "chan receive"],
  ["runtime.chansend", "chan send"],
  ["runtime.chansend1", "chan send"],
  ["runtime.selectgo", "select"],
  ["runtime.block", "select (no cases)"],
  ["time.Sleep", "sleep"],
  ["sync.(*Cond).Wait", "sync.Cond.Wait"],
  ["sync.(*WaitGroup).Wait", "sync.WaitGroup.Wait"],
  ["sync.(*Mutex).Lock", "sync.Mutex.Lock"],
  ["sync.(*RWMutex).Lock", "sync.RWMutex.Lock"],
  ["sync.(*RWMutex).RLock", "sync.RWMutex.RLock"],
  ["internal/poll.runtime_pollWait", "IO wait"],
]);

/** Packages whose frames are plumbing below the call site we want to show. */
const PLUMBING = ["runtime", "internal/", "sync", "time", "syscall", "os", "io", "bufio", "net"];

export interface GoroutineGroupColumns {
  /** Positions in GoroutineSummary.strings. */
  readonly function: readonly number[];
  readonly file: readonly number[];
  readonly line: readonly number[];
  readonly state: readonly number[];
  readonly count: readonly number[];
}

/** JSON-safe, like HeapSummary: groups sorted by count, largest first, bounded. */
export interface GoroutineSummary {
  readonly kind: "goroutine";
  readonly version: 1;
  /** The sample type read: "goroutine" or "goroutineleak" (goroutines proven stuck). */
  readonly profileType: string;
  readonly timeNanos: number;
  readonly total: number;
  readonly symbolized: boolean;
  readonly strings: readonly string[];
  readonly groups: GoroutineGroupColumns;
  readonly other: { readonly groups: number; readonly count: number };
}

export interface GoroutineGroup {
  readonly function: string;
  readonly file: string;
  readonly line: number;
  /** "chan receive", "select", "sleep", "IO wait", "parked", "running", … */
  readonly state: string;
  readonly count: number;
}

export interface GoroutineSummaryOptions {
  readonly maxGroups?: number;
}

function goroutineTypeIndex(p: Profile): number {
  for (const name of GOROUTINE_TYPES) {
    const i = p.sampleTypes.findIndex((t) => t.type === name);
    if (i >= 0) return i;
  }
  const only = p.sampleTypes[0];
  if (p.sampleTypes.length === 1 && only?.unit === "count") return 0;
  throw new MissingSampleTypeError(
    "goroutine",
    p.sampleTypes.map((t) => t.type),
  );
}

export function summarizeGoroutines(p: Profile, options: GoroutineSummaryOptions = {}): GoroutineSummary {
  if (p.stacks !== "full") throw new Error("summarizeGoroutines needs a profile decoded with stacks: 'full'");
  const index = goroutineTypeIndex(p);
  const n = p.sampleTypes.length;
  const frameCache = new Array<Frame[] | undefined>(p.locations.count);
  const frames = (loc: number): Frame[] => (frameCache[loc] ??= locationFrames(p, loc));
  const groups = new Map<string, { group: Omit<GoroutineGroup, "count">; count: number }>();
  let total = 0;
  let symbolized = true;
  for (let i = 0; i < p.sampleCount; i++) {
    const count = p.values[i * n + index] ?? 0;
    if (count === 0) continue;
    total += count;
    const stack: Frame[] = [];
    for (let s = p.stackOffsets[i] ?? 0; s < (p.stackOffsets[i + 1] ?? 0); s++) {
      stack.push(...frames(p.stackLocations[s] ?? 0));
    }
    if (stack.some((f) => !f.symbolized)) symbolized = false;
    const g = blockingSite(stack);
    const key = `${g.function}\u0000${g.file}\u0000${g.line}\u0000${g.state}`;
    const entry = groups.get(key);
    if (entry === undefined) groups.set(key, { group: g, count });
    else entry.count += count;
  }
  const all = [...groups.values()].map(({ group, count }) => ({ ...group, count }));
  all.sort(compareGroups);
  const kept = all.slice(0, options.maxGroups ?? DEFAULT_MAX_GROUPS);
  const rest = all.slice(kept.length);
  const strings: string[] = [];
  const ids = new Map<string, number>();
  const intern = (s: string): number => {
    let id = ids.get(s);
    if (id === undefined) {
      id = strings.push(s) - 1;
      ids.set(s, id);
    }
    return id;
  };
  return {
    kind: "goroutine",
    version: 1,
    profileType: p.sampleTypes[index]?.type ?? "goroutine",
    timeNanos: p.timeNanos,
    total,
    symbolized,
    groups: {
      function: kept.map((g) => intern(g.function)),
      file: kept.map((g) => intern(g.file)),
      line: kept.map((g) => g.line),
      state: kept.map((g) => intern(g.state)),
      count: kept.map((g) => g.count),
    },
    strings,
    other: { groups: rest.length, count: rest.reduce((sum, g) => sum + g.count, 0) },
  };
}

function compareGroups(a: GoroutineGroup, b: GoroutineGroup): number {
  return (
    b.count - a.count ||
    compareStrings(a.function, b.function) ||
    compareStrings(a.file, b.file) ||
    a.line - b.line ||
    compareStrings(a.state, b.state)
  );
}

/**
 * The frame a stack (leaf first) is blocked in: the first frame of application code, else
 * the first frame outside the runtime plumbing, else the outermost frame; and why it waits.
 */
export function blockingSite(stack: readonly Frame[]): Omit<GoroutineGroup, "count"> {
  if (stack.length === 0) return { function: NO_STACK, file: "", line: 0, state: "no stack" };
  let site = stack.findIndex((f) => isApplicationFrame(f.function));
  if (site < 0) site = stack.findIndex((f) => !isPlumbing(f.function));
  if (site < 0) site = stack.length - 1;
  const frame = stack[site] ?? stack[0];
  return {
    function: frame?.function ?? "",
    file: frame?.file ?? "",
    line: frame?.line ?? 0,
    state: waitState(stack, site),
  };
}

function waitState(stack: readonly Frame[], site: number): string {
  const leaf = stack[0]?.function ?? "";
  if (leaf !== "runtime.gopark" && leaf !== "runtime.goparkunlock") {
    return stack.some((f) => f.function.startsWith("syscall.")) ? "syscall" : "running";
  }
  let state = "parked";
  for (let i = 0; i < site; i++) state = WAIT_STATES.get(stack[i]?.function ?? "") ?? state;
  return state;
}

/** The import path of a Go symbol: "github.com/a/b" for "github.com/a/b.(*T).m". */
export function goPackage(fn: string): string {
  const slash = fn.lastIndexOf("/");
  const dot = fn.indexOf(".", slash + 1);
  return dot < 0 ? fn : fn.slice(0, dot);
}

/** Not the standard library: main, or a path whose first element has a dot (a module path). */
export function isApplicationFrame(fn: string): boolean {
  if (fn.startsWith("0x")) return true; // unsymbolized: cannot tell, assume it is the app
  const pkg = goPackage(fn);
  if (pkg === "main") return true;
  const first = pkg.split("/", 1)[0] ?? "";
  return first.includes(".");
}

function isPlumbing(fn: string): boolean {
  const pkg = goPackage(fn);
  return PLUMBING.some((p) => (p.endsWith("/") ? pkg.startsWith(p) : pkg === p));
}

export function goroutineGroups(s: GoroutineSummary): GoroutineGroup[] {
  const str = (i: number | undefined): string => s.strings[i ?? -1] ?? "";
  return s.groups.count.map((count, i) => ({
    function: str(s.groups.function[i]),
    file: str(s.groups.file[i]),
    line: s.groups.line[i] ?? 0,
    state: str(s.groups.state[i]),
    count,
  }));
}

/** "412 goroutines parked at main.worker (leak.go:31) in chan receive". */
export function describeGroup(g: GoroutineGroup): string {
  const noun = g.count === 1 ? "goroutine" : "goroutines";
  const where = g.file === "" ? g.function : `${g.function} (${shortFile(g.file)}:${g.line})`;
  switch (g.state) {
    case "no stack":
      return `${g.count} ${noun} with no stack`;
    case "running":
      return `${g.count} ${noun} running at ${where}`;
    case "syscall":
      return `${g.count} ${noun} in a system call at ${where}`;
    case "parked":
      return `${g.count} ${noun} parked at ${where}`;
    default:
      return `${g.count} ${noun} parked at ${where} in ${g.state}`;
  }
}
