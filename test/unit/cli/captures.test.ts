import { captureFileList } from "../../../src/kube/captures.ts";
import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  captureListJSON,
  captures,
  displayDir,
  emptyCapturesMessage,
  existingFiles,
  parseGetArgs,
  parseListArgs,
  renderCaptureList,
  renderGetResult,
  shellQuote,
  writeCaptureFiles,
  type CaptureRow,
} from "../../../src/cli/captures.ts";
import { UsageError } from "../../../src/cli/command.ts";
import type { Capture, StoredCaptureMeta } from "../../../src/kube/captures.ts";
import { ALL_NAMESPACES } from "../../../src/kube/leakwatches.ts";
import { runCommand } from "./io.ts";

const NOW = Date.parse("2026-05-01T12:00:00Z");
const NAME = "lw-checkout-checkout-a-20260501115600-1a2b3";

function meta(overrides: Partial<StoredCaptureMeta> = {}): StoredCaptureMeta {
  return {
    leakWatch: { name: "checkout", uid: "u-1" },
    namespace: "shop",
    pod: "checkout-a",
    container: "app",
    workload: { kind: "Deployment", name: "checkout" },
    createdAt: "2026-05-01T11:56:00Z",
    headline: "main.appendChunk (leaks.go:18) +38.2 MiB in-use (+1300%)",
    reason: "Leaking",
    maxBytes: 4 << 20,
    omitted: [],
    ...overrides,
  };
}

function capture(overrides: Partial<StoredCaptureMeta> = {}, withBase = true): Capture {
  return {
    name: NAME,
    meta: meta(overrides),
    files: {
      "heap.pb.gz": Buffer.from("heap"),
      ...(withBase ? { "base-heap.pb.gz": Buffer.from("base") } : {}),
      "goroutine.pb.gz": Buffer.from("goroutines"),
      "report.txt": "report\n",
      "report.json": "{}",
    },
  };
}

describe("argument parsing", () => {
  it("list: namespace, all namespaces, LeakWatch filter, format", () => {
    expect(parseListArgs([])).toEqual({
      kubeconfig: undefined,
      context: undefined,
      scope: { all: false, namespace: undefined },
      leakWatch: undefined,
      format: "table",
    });
    expect(parseListArgs(["-A", "--leakwatch", "checkout", "-o", "json", "--context", "prod"])).toMatchObject(
      {
        scope: { all: true },
        leakWatch: "checkout",
        format: "json",
        context: "prod",
      },
    );
    expect(() => parseListArgs(["-o", "wide"])).toThrow(/--output must be one of table, json/);
    expect(() => parseListArgs(["extra"])).toThrow(UsageError);
    expect(() => parseListArgs(["--leakwatch", ""])).toThrow(/needs a LeakWatch name/);
  });

  it("get: the event note's exact command parses", () => {
    expect(parseGetArgs([NAME, "-n", "shop", "-o", `./${NAME}`])).toEqual({
      kubeconfig: undefined,
      context: undefined,
      namespace: "shop",
      name: NAME,
      dir: `./${NAME}`,
      force: false,
    });
    expect(parseGetArgs([NAME, "--force", "--kubeconfig", "/k"])).toMatchObject({
      dir: undefined,
      force: true,
      kubeconfig: "/k",
      namespace: undefined,
    });
    expect(() => parseGetArgs([])).toThrow(/expected one capture NAME/);
    expect(() => parseGetArgs(["a", "b"])).toThrow(/expected one capture NAME/);
    expect(() => parseGetArgs([NAME, "-A"])).toThrow(/Unknown option '-A'/);
    expect(() => parseGetArgs([NAME, "-o", ""])).toThrow(/-o needs a directory/);
  });

  it("the dispatcher prints help and rejects unknown subcommands", async () => {
    const help = await runCommand(captures, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: leakwatch captures list/);
    const listHelp = await runCommand(captures, ["list", "-h"]);
    expect(listHelp.stdout).toContain("--leakwatch NAME");
    const getHelp = await runCommand(captures, ["get", "--help"]);
    expect(getHelp.stdout).toContain("--force");
    await expect(runCommand(captures, [])).rejects.toThrow(/expected list or get/);
    await expect(runCommand(captures, ["delete"])).rejects.toThrow(/unknown subcommand "delete"/);
  });
});

describe("captures list output", () => {
  const row = (name: string, extra: Partial<CaptureRow> = {}): CaptureRow => ({
    name,
    namespace: "shop",
    bytes: 123_456,
    complete: true,
    meta: meta(),
    files: [{ name: "heap.pb.gz", bytes: 123_000 }],
    ...extra,
  });

  it("a table of name, pod, age, size, complete and headline", () => {
    expect(
      renderCaptureList([row("lw-a"), row("lw-bb", { complete: false })], { all: false, now: NOW }),
    ).toBe(
      [
        "NAME    POD          AGE   SIZE      COMPLETE   HEADLINE",
        "lw-a    checkout-a   4m    121 KiB   true       main.appendChunk (leaks.go:18) +38.2 MiB in-use (+1300%)",
        "lw-bb   checkout-a   4m    121 KiB   false      main.appendChunk (leaks.go:18) +38.2 MiB in-use (+1300%)",
        "(COMPLETE false: captures.maxBytes left files out; leakwatch captures get says which)",
        "",
      ].join("\n"),
    );
  });

  it("adds the namespace with -A", () => {
    expect(renderCaptureList([row("lw-a")], { all: true, now: NOW }).split("\n")[0]).toMatch(
      /^NAMESPACE\s+NAME\s+POD/,
    );
  });

  it("JSON carries what scripts need", () => {
    const parsed = JSON.parse(captureListJSON([row("lw-a")])) as { kind: string; items: unknown[] };
    expect(parsed.kind).toBe("CaptureList");
    expect(parsed.items[0]).toMatchObject({
      namespace: "shop",
      name: "lw-a",
      leakWatch: "checkout",
      pod: "checkout-a",
      bytes: 123_456,
      complete: true,
      files: [{ name: "heap.pb.gz", bytes: 123_000 }],
    });
  });

  it("an empty list says why and where to look", () => {
    expect(emptyCapturesMessage("shop", undefined)).toBe(
      "no captures in namespace shop: LeakWatch stores one when it confirms a leak (leakwatch status -n shop shows the verdicts)",
    );
    expect(emptyCapturesMessage(ALL_NAMESPACES, "checkout")).toBe(
      "no captures of LeakWatch checkout in any namespace: LeakWatch stores one when it confirms a leak (leakwatch status -A shows the verdicts)",
    );
  });
});

describe("captures get", () => {
  it("writes the stored files, leaving out what the size policy dropped", () => {
    expect(captureFileList(capture()).map(([n]) => n)).toEqual([
      "heap.pb.gz",
      "base-heap.pb.gz",
      "goroutine.pb.gz",
      "report.txt",
      "report.json",
    ]);
    const dropped = capture({
      omitted: [
        { file: "base-heap.pb.gz", bytes: 9, action: "dropped" },
        { file: "report.json", bytes: 9, action: "dropped" },
        { file: "report.txt", bytes: 9, action: "truncated" },
      ],
    });
    expect(captureFileList(dropped).map(([n]) => n)).toEqual(["heap.pb.gz", "goroutine.pb.gz", "report.txt"]);
  });

  it("refuses to overwrite unless forced", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "lw-cli-get-")), "nested", "out");
    const files = captureFileList(capture());
    expect(
      await existingFiles(
        dir,
        files.map(([n]) => n),
      ),
    ).toEqual([]);
    await writeCaptureFiles(dir, files, false);
    expect((await readdir(dir)).sort()).toEqual(
      ["base-heap.pb.gz", "goroutine.pb.gz", "heap.pb.gz", "report.json", "report.txt"].sort(),
    );
    expect(await existingFiles(dir, ["heap.pb.gz", "other"])).toEqual(["heap.pb.gz"]);
    await writeFile(join(dir, "heap.pb.gz"), "stale");
    await expect(writeCaptureFiles(dir, files, false)).rejects.toMatchObject({ code: "EEXIST" });
    await writeCaptureFiles(dir, files, true);
    expect(await readFile(join(dir, "heap.pb.gz"), "utf8")).toBe("heap");
  });

  it("quotes directories only when the shell needs it", () => {
    expect(shellQuote("./lw-a")).toBe("./lw-a");
    expect(shellQuote("/tmp/x_y.z")).toBe("/tmp/x_y.z");
    expect(shellQuote("/tmp/my dir")).toBe("'/tmp/my dir'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(displayDir("lw-a", undefined)).toBe("./lw-a");
    expect(displayDir("lw-a", "out/")).toBe("out");
    expect(displayDir("lw-a", "/")).toBe("/");
  });

  it("prints the headline, the files, and the pprof -base and leakwatch diff commands", () => {
    const c = capture();
    const out = renderGetResult({
      capture: c,
      namespace: "shop",
      dir: `./${NAME}`,
      written: captureFileList(c),
      now: NOW,
      program: "leakwatch",
    });
    expect(out).toBe(
      [
        `Capture ${NAME} of shop/checkout-a (container app, Deployment/checkout), Leaking, taken 2026-05-01T11:56:00Z (4m ago)`,
        "Headline: main.appendChunk (leaks.go:18) +38.2 MiB in-use (+1300%)",
        `Wrote ./${NAME}/: heap.pb.gz (4 B), base-heap.pb.gz (4 B), goroutine.pb.gz (10 B), report.txt (7 B), report.json (2 B)`,
        "",
        "Open it (what grew since the start of the window):",
        `  go tool pprof -http=: -base ./${NAME}/base-heap.pb.gz ./${NAME}/heap.pb.gz`,
        "What grew, in the terminal:",
        `  leakwatch diff ./${NAME}/base-heap.pb.gz ./${NAME}/heap.pb.gz`,
        "Where goroutines wait:",
        `  leakwatch top ./${NAME}/goroutine.pb.gz`,
        "The report:",
        `  less ./${NAME}/report.txt`,
        "",
      ].join("\n"),
    );
  });

  it("without a base profile: no -base, and top instead of diff; says what was left out", () => {
    const c = capture({ omitted: [{ file: "base-heap.pb.gz", bytes: 2_000_000, action: "dropped" }] });
    const out = renderGetResult({
      capture: c,
      namespace: "shop",
      dir: "/tmp/on call",
      written: captureFileList(c),
      now: NOW,
      program: "kubectl leakwatch",
    });
    expect(out).toContain("Incomplete: captures.maxBytes (4.00 MiB) dropped base-heap.pb.gz (1.91 MiB)\n");
    expect(out).toContain("Open it:\n  go tool pprof -http=: '/tmp/on call'/heap.pb.gz\n");
    expect(out).toContain(
      "What it holds, in the terminal:\n  kubectl leakwatch top '/tmp/on call'/heap.pb.gz\n",
    );
    expect(out).not.toContain("-base");
  });
});
