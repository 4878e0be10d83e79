// `leakwatch top` and `leakwatch diff`, run in-process on the committed fixtures.
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CommandIO } from "../../../src/cli/command.ts";
import { UsageError } from "../../../src/cli/command.ts";
import { diff } from "../../../src/cli/diff.ts";
import { top } from "../../../src/cli/top.ts";
import { FIXTURES } from "./helpers/go.ts";

const fixture = (name: string): string => path.join(FIXTURES, name);

async function run(
  command: typeof top,
  argv: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on("data", (c: Buffer) => chunks.out.push(c));
  err.on("data", (c: Buffer) => chunks.err.push(c));
  const io: CommandIO = { stdout: out, stderr: err, env: {}, signal: new AbortController().signal };
  const code = await command(argv, io);
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

describe("leakwatch top", () => {
  it("prints totals and a pprof-like table", async () => {
    const { code, stdout } = await run(top, [fixture("go-heap.pb.gz"), "--top", "3"]);
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines[2]).toMatch(/^Totals: alloc_objects [\d,]+, alloc_space [\d.]+ MiB, inuse_objects/);
    expect(stdout).toContain("Type: inuse_space");
    expect(stdout).toContain("Showing top 3 nodes out of");
    expect(stdout).toMatch(
      /\n\s+flat\s+flat%\s+sum%\s+cum\s+cum%\n\s+2\.\d\dMiB\s+\d+\.\d\d%\s+\d+\.\d\d%\s+2\.\d\dMiB\s+\S+\s+main\.\(\*cache\)\.put\n/,
    );
  });

  it("ranks by another sample type, by line, as JSON", async () => {
    const { code, stdout } = await run(top, [
      fixture("go-heap.pb.gz"),
      "--sample-index",
      "alloc_space",
      "--by",
      "line",
      "--json",
      "--top",
      "2",
    ]);
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as {
      table: { sampleType: { type: string }; by: string; rows: { name: string }[] };
    };
    expect(json.table.sampleType.type).toBe("alloc_space");
    expect(json.table.by).toBe("line");
    expect(json.table.rows).toHaveLength(2);
    expect(json.table.rows[0]?.name).toMatch(/ \/.*main\.go:\d+$/);
    const byPosition = await run(top, [fixture("go-heap.pb.gz"), "--sample-index", "1", "--json"]);
    expect((JSON.parse(byPosition.stdout) as typeof json).table.sampleType.type).toBe("alloc_space");
  });

  it("lists where goroutines are parked", async () => {
    const { stdout } = await run(top, [fixture("go-goroutine.pb.gz")]);
    expect(stdout).toContain("  100 goroutines parked at main.worker (main.go:27) in chan receive\n");
  });

  it("says when a profile has no symbols", async () => {
    const { stdout } = await run(top, [fixture("unsymbolized.pb.gz"), "--top", "2"]);
    expect(stdout).toContain("show as addresses");
    expect(stdout).toMatch(/0x[0-9a-f]+\n/);
  });

  it("fetches URLs", async () => {
    const server = http.createServer((_, res) => res.end(readFileSync(fixture("node-heap.pb.gz"))));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { code, stdout } = await run(top, [`http://127.0.0.1:${port}/debug/pprof/heap`, "--by", "line"]);
      expect(code).toBe(0);
      expect(stdout).toContain("cacheResponse /app/cache.js:17");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("reports bad profiles and missing files with exit code 1", async () => {
    const notGzip = await run(top, [path.join(FIXTURES, "make-fixtures.ts")]);
    expect(notGzip).toMatchObject({ code: 1 });
    expect(notGzip.stderr).toMatch(/^leakwatch top: profile is not gzip .*\[LW_PROFILE_NOT_GZIP\]\n$/);
    const missing = await run(top, [fixture("nope.pb.gz")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("ENOENT");
    const badType = await run(top, [fixture("go-heap.pb.gz"), "--sample-index", "cpu"]);
    expect(badType.stderr).toContain('no "cpu" sample type');
  });

  it("rejects bad usage", async () => {
    await expect(run(top, [])).rejects.toBeInstanceOf(UsageError);
    await expect(run(top, ["a", "b"])).rejects.toBeInstanceOf(UsageError);
    await expect(run(top, ["a", "--by", "file"])).rejects.toThrow(/--by must be one of function, line/);
    await expect(run(top, ["a", "--top", "0"])).rejects.toThrow(/--top must be a positive integer/);
    await expect(run(top, ["a", "--frobnicate"])).rejects.toBeInstanceOf(UsageError);
    expect((await run(top, ["--help"])).stdout).toContain("usage: leakwatch top PROFILE");
  });
});

describe("leakwatch diff", () => {
  it("prints the headline, what grew, and a -base table", async () => {
    const { code, stdout } = await run(diff, [fixture("go-heap-base.pb.gz"), fixture("go-heap.pb.gz")]);
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines[0]).toMatch(/^main\.\(\*cache\)\.put \(main\.go:20\) \+1\.\d\d MiB in-use \(\+\d+%\)$/);
    expect(lines[1]).toMatch(/^in-use: [\d.]+ MiB -> [\d.]+ MiB, \+[\d.]+ MiB \(\+\d+%\)$/);
    expect(stdout).toContain("Type: inuse_space (new - base)");
  });

  it("prints JSON", async () => {
    const { stdout } = await run(diff, [
      fixture("go-heap-base.pb.gz"),
      fixture("go-heap.pb.gz"),
      "--json",
      "--by",
      "function",
    ]);
    const json = JSON.parse(stdout) as {
      headline: string;
      growth: { kind: string; rows: unknown[] };
      table: { diff: boolean };
    };
    expect(json.headline).toMatch(/^main\.\(\*cache\)\.put \+1\.\d\d MiB in-use/);
    expect(json.growth.kind).toBe("heap-diff");
    expect(json.table.diff).toBe(true);
  });

  it("diffs goroutine profiles by blocking site", async () => {
    const same = await run(diff, [fixture("go-goroutine.pb.gz"), fixture("go-goroutine.pb.gz")]);
    expect(same.stdout.split("\n")[0]).toBe("no blocking site gained goroutines (+0 in total)");
    const mixed = await run(diff, [fixture("go-goroutineleak.pb.gz"), fixture("go-goroutine.pb.gz")]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain('no "goroutine" sample type (it has: goroutineleak)');
  });

  it("needs two profiles", async () => {
    await expect(run(diff, [fixture("go-heap.pb.gz")])).rejects.toBeInstanceOf(UsageError);
  });
});
