// Real Go heap profiles of the sizes the benchmark needs, made by a generated Go program.
// The program and the profiles are cached under ~/.cache/leakwatch/bench/, keyed by a hash
// of the generated source and the Go version, so only the first run pays for them.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { generateGoSource } from "./gen-go.ts";

export interface BenchProfile {
  readonly label: string;
  /** The profile at the end of the run. */
  readonly file: string;
  /** The same process earlier (after 80% of its allocations): the diff base. */
  readonly baseFile: string;
}

export const TARGETS = [
  { label: "40 KiB", bytes: 40 << 10 },
  { label: "250 KiB", bytes: 250 << 10 },
  { label: "1 MiB", bytes: 1 << 20 },
] as const;

const goEnv = { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" };

function cacheDir(source: string): string {
  const goVersion = execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).trim();
  const hash = createHash("sha256").update(source).update(goVersion).digest("hex").slice(0, 16);
  return path.join(process.env.LEAKWATCH_CACHE ?? path.join(homedir(), ".cache", "leakwatch"), "bench", hash);
}

function buildGenerator(dir: string, source: string): string {
  const bin = path.join(dir, "heapgen");
  if (existsSync(bin)) return bin;
  const src = path.join(dir, "src");
  mkdirSync(src, { recursive: true });
  writeFileSync(path.join(src, "main.go"), source);
  writeFileSync(path.join(src, "go.mod"), "module leakwatch.dev/benchheapgen\n\ngo 1.24\n");
  execFileSync("go", ["build", "-o", `${bin}.tmp`, "."], { cwd: src, env: goEnv, stdio: "inherit" });
  renameSync(`${bin}.tmp`, bin);
  return bin;
}

function run(bin: string, combos: number, base: string, out: string): number {
  execFileSync(bin, ["-combos", String(combos), "-base", base, "-out", out], { stdio: "ignore" });
  return statSync(out).size;
}

/** Finds the allocation count that gives a profile near the target size (within 10%). */
function calibrate(bin: string, dir: string, target: number, label: string): BenchProfile {
  const slug = label.replace(/\s+/g, "").toLowerCase();
  const file = path.join(dir, `heap-${slug}.pb.gz`);
  const baseFile = path.join(dir, `heap-${slug}-base.pb.gz`);
  if (existsSync(file) && existsSync(baseFile)) return { label, file, baseFile };
  let combos = Math.max(200, Math.round(target / 12));
  for (let attempt = 0; attempt < 6; attempt++) {
    const size = run(bin, combos, `${baseFile}.tmp`, `${file}.tmp`);
    if (Math.abs(size - target) / target <= 0.1) break;
    combos = Math.max(100, Math.round(combos * (target / size)));
  }
  renameSync(`${baseFile}.tmp`, baseFile);
  renameSync(`${file}.tmp`, file);
  return { label, file, baseFile };
}

export function benchProfiles(): BenchProfile[] {
  const source = generateGoSource();
  const dir = cacheDir(source);
  mkdirSync(dir, { recursive: true });
  const bin = buildGenerator(dir, source);
  return TARGETS.map((t) => calibrate(bin, dir, t.bytes, t.label));
}
