import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { detect } from "../../../src/cli/detect.ts";
import { UsageError } from "../../../src/cli/command.ts";
import { formatSeriesCsv } from "../../../src/detect/index.ts";
import { MIB, series } from "./series.ts";

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  const code = await detect(args, { stdout, stderr, env: {}, signal: new AbortController().signal });
  return { code, stdout: out, stderr: err };
}

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lw-detect-"));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe("leakwatch detect", () => {
  it("prints the timeline, then the final heap and goroutine verdicts last", async () => {
    const samples = series(5, (m) => 100 * MIB * (1 + (0.4 * m) / 60), 0.01);
    const path = await file("leak.csv", formatSeriesCsv(samples));
    const { code, stdout } = await run([path, "--limit", "1GiB"]);
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.at(-2)).toMatch(/^heap: Leaking \(fast\), slope .*limit in/);
    expect(lines.at(-1)).toMatch(/^goroutines: /);
    expect(stdout).toMatch(/Collecting/);
  });

  it("replays a demo-speed recording with its own interval, window and warm-up", async () => {
    const samples = Array.from({ length: 150 }, (_, i) => ({
      t: Date.UTC(2026, 0, 1) + i * 2000,
      heapInuseBytes: Math.round((5 * MIB + MIB * 2 * i) * (1 + 0.05 * Math.sin(i))),
      goroutines: 12,
    }));
    const path = await file("demo.csv", formatSeriesCsv(samples));
    const { code, stdout } = await run([path, "--window", "2m", "--warmup", "10s"]);
    expect(code).toBe(0);
    expect(stdout.trim().split("\n").at(-2)).toMatch(/^heap: Leaking \(fast\)/);
    await expect(run([path, "--window", "soon"])).rejects.toThrow(/--window/);
  });

  it("writes JSON lines with --json", async () => {
    const path = await file("flat.csv", formatSeriesCsv(series(2, () => 50 * MIB)));
    const { stdout } = await run([path, "--json"]);
    const last = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
      final?: boolean;
      heap?: { verdict?: string };
    };
    expect(last.final).toBe(true);
    expect(last.heap?.verdict).toBe("Healthy");
  });

  it("names the line of a malformed row and exits non-zero", async () => {
    const path = await file("bad.csv", "time,heap_inuse_bytes,goroutines,restart\n1,100,3,0\n2,12x,3,0\n");
    const { code, stderr } = await run([path]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/line 3: heap_inuse_bytes "12x"/);
  });

  it("reports an unreadable file", async () => {
    const { code, stderr } = await run(["/nonexistent/series.csv"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot read/);
  });

  it("throws a usage error without a file or with a bad limit", async () => {
    await expect(run([])).rejects.toThrow(UsageError);
    const path = await file("ok.csv", "time,heap_inuse_bytes\n1,1\n");
    await expect(run([path, "--limit", "lots"])).rejects.toThrow(/--limit/);
    await expect(run([path, "--sampling", "0"])).rejects.toThrow(/--sampling must be positive/);
  });
});
