// Real Go programs for the tests: built once per source hash into ~/.cache/leakwatch/test-bin/
// (outside the repo), and `go tool pprof` as the reference to compare against.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const GEN_DIR = fileURLToPath(new URL("../../../fixtures/profile/gen/", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("../../../fixtures/profile/", import.meta.url));

const goEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
  ...process.env,
  GOTOOLCHAIN: "local",
  GOFLAGS: "-mod=mod",
  ...extra,
});

let goVersion: string | undefined;
function version(): string {
  goVersion ??= execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).trim();
  return goVersion;
}

export type GoProgram = "heapgen" | "pprofserver";

/** Builds (or finds in the cache) one of the programs under test/fixtures/profile/gen/. */
export function buildGo(program: GoProgram, env: Record<string, string> = {}): string {
  const hash = createHash("sha256").update(version()).update(JSON.stringify(env));
  hash.update(readFileSync(path.join(GEN_DIR, "go.mod")));
  const dir = path.join(GEN_DIR, program);
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(path.join(dir, file)));
  const cache = path.join(
    process.env.LEAKWATCH_CACHE ?? path.join(homedir(), ".cache", "leakwatch"),
    "test-bin",
  );
  const bin = path.join(cache, `${program}-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(cache, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  execFileSync("go", ["build", "-o", tmp, `./${program}`], { cwd: GEN_DIR, env: goEnv(env), stdio: "pipe" });
  renameSync(tmp, bin); // atomic: parallel workers may build the same program
  return bin;
}

export interface PprofRow {
  readonly flat: number;
  readonly cum: number;
  /** As pprof prints it, without the inline marker. */
  readonly name: string;
  readonly inline: "" | "inline" | "partial-inline";
}

export interface PprofTop {
  readonly total: number;
  readonly rows: readonly PprofRow[];
}

const ROW = /^\s*(-?\d+)B?\s+\S+%\s+\S+%\s+(-?\d+)B?\s+\S+%\s+(.*?)(?: \((inline|partial-inline)\))?$/;

/**
 * `go tool pprof -top` with everything shown and exact values (-unit=B for bytes), parsed.
 */
export function pprofTop(
  file: string,
  options: { sampleIndex: string; lines?: boolean; base?: string; bytes?: boolean },
): PprofTop {
  const args = ["tool", "pprof", "-top", "-nodecount=1000000", "-nodefraction=0", "-edgefraction=0"];
  args.push(`-sample_index=${options.sampleIndex}`);
  if (options.bytes !== false) args.push("-unit=B");
  if (options.lines === true) args.push("-lines");
  if (options.base !== undefined) args.push(`-base=${options.base}`);
  args.push(file);
  const out = execFileSync("go", args, {
    encoding: "utf8",
    env: goEnv({}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const totalMatch = /of (-?\d+)B? total/.exec(out);
  if (totalMatch === null) throw new Error(`no total in pprof output:\n${out}`);
  const lines = out.split("\n");
  const header = lines.findIndex((l) => /^\s+flat\s+flat%/.test(l));
  const rows: PprofRow[] = [];
  for (const line of lines.slice(header + 1)) {
    if (line.trim() === "") continue;
    const m = ROW.exec(line);
    if (m === null) throw new Error(`unparsed pprof line: ${line}`);
    rows.push({
      flat: Number(m[1]),
      cum: Number(m[2]),
      name: m[3] ?? "",
      inline: (m[4] ?? "") as PprofRow["inline"],
    });
  }
  return { total: Number(totalMatch[1]), rows };
}
