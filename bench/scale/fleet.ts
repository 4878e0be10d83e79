// The simulated fleet: one Go process (bench/scale/fleet/) serving real Go heap and goroutine
// profiles for thousands of targets, each on its own loopback address. Built once per source hash
// and Go version into the cache; its heap profiles are bench/profile's real ones plus variants.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ManagedProcess, ProcessGroup } from "../../src/localcluster/processes.ts";
import { decodeProfileBytes, inuseBytes, summarizeHeap } from "../../src/profile/index.ts";
import { heapVariants } from "./variants.ts";

const SOURCE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "fleet");
const SOURCE_FILES = ["go.mod", "main.go"];
const goEnv = { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" };

/** Address of target 0; the fleet's addresses continue from it, skipping .0 and .255. */
export const FIRST_ADDRESS = "127.20.0.1";

/** The same numbering as the fleet's `address()`. */
export function targetAddress(i: number): string {
  const [a, b, c, d] = FIRST_ADDRESS.split(".").map(Number) as [number, number, number, number];
  const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d + Math.floor(i / 254) * 256 + (i % 254);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function cacheRoot(): string {
  return path.join(process.env.LEAKWATCH_CACHE ?? path.join(homedir(), ".cache", "leakwatch"), "bench");
}

/** Builds the fleet binary (cached by source hash and Go version); returns its path. */
export function buildFleet(): string {
  const goVersion = execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8", env: goEnv }).trim();
  const hash = createHash("sha256");
  for (const file of SOURCE_FILES) hash.update(file).update(readFileSync(path.join(SOURCE_DIR, file)));
  hash.update(goVersion);
  const dir = path.join(cacheRoot(), `fleet-${hash.digest("hex").slice(0, 16)}`);
  const bin = path.join(dir, "fleet");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  execFileSync("go", ["build", "-trimpath", "-o", `${bin}.tmp`, "."], {
    cwd: SOURCE_DIR,
    env: goEnv,
    stdio: "inherit",
  });
  renameSync(`${bin}.tmp`, bin);
  return bin;
}

export interface FleetProfiles {
  manifest: string;
  small: string[];
  large: string[];
  smallBytes: number[];
  largeBytes: number[];
  /** Mean in-use heap bytes the small and the large profiles report. */
  inuse: { small: number; large: number };
}

/** Writes the manifest the fleet reads: the ~40 KiB class and the ~250 KiB class of heap profiles. */
export function fleetProfiles(): FleetProfiles {
  const variants = heapVariants();
  const dir = path.dirname(variants.small[0] ?? cacheRoot());
  const manifest = path.join(dir, "fleet-manifest.json");
  writeFileSync(manifest, JSON.stringify({ small: variants.small, large: variants.large }));
  const sizes = (files: string[]): number[] => files.map((f) => readFileSync(f).length);
  const inuse = (files: string[]): number =>
    files.reduce(
      (sum, f) => sum + inuseBytes(summarizeHeap(decodeProfileBytes(readFileSync(f), { stacks: "leaf" }))),
      0,
    ) / files.length;
  return {
    manifest,
    small: variants.small,
    large: variants.large,
    smallBytes: sizes(variants.small),
    largeBytes: sizes(variants.large),
    inuse: { small: inuse(variants.small), large: inuse(variants.large) },
  };
}

export interface Fleet {
  readonly process: ManagedProcess;
  readonly port: number;
  readonly targets: number;
  /** Heap profiles served so far, per target. */
  heapCounts(): Promise<number[]>;
  /** Bytes served so far (heap and goroutine). */
  bytesServed(): Promise<number>;
}

export async function startFleet(
  group: ProcessGroup,
  bin: string,
  profiles: FleetProfiles,
  targets: number,
): Promise<Fleet> {
  const proc = group.start("fleet", bin, [
    `-targets=${targets}`,
    `-first=${FIRST_ADDRESS}`,
    `-manifest=${profiles.manifest}`,
  ]);
  const match = await proc.waitForOutput(/fleet ready targets=\d+ port=(\d+) control=(\d+)/, 60_000);
  const port = Number(match[1]);
  const control = `http://127.0.0.1:${match[2]}`;
  const read = async (): Promise<{ heap: number[]; bytes: number }> =>
    (await (await fetch(`${control}/counts`)).json()) as { heap: number[]; bytes: number };
  return {
    process: proc,
    port,
    targets,
    heapCounts: async () => (await read()).heap,
    bytesServed: async () => (await read()).bytes,
  };
}
