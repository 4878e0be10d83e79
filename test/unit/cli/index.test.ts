import { describe, expect, it } from "vitest";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasDefaultKubeconfig, programName, scopeFromFlags } from "../../../src/cli/cluster.ts";
import { UsageError } from "../../../src/cli/command.ts";
import { main } from "../../../src/cli/index.ts";
import { runCommand } from "./io.ts";

describe("leakwatch --help", () => {
  it("lists every command, the on-call ones included", async () => {
    const { code, stdout } = await runCommand(main, ["--help"]);
    expect(code).toBe(0);
    for (const name of ["demo", "run", "top", "diff", "detect", "status", "captures"]) {
      expect(stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, "m"));
    }
  });

  it("turns a usage error into exit code 2 with the message", async () => {
    const r = await runCommand(main, ["status", "-n", "a", "-A"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("leakwatch status: use -n NAMESPACE or -A, not both\n");
    const c = await runCommand(main, ["captures"]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/^leakwatch captures: expected list or get\n/);
  });

  it("prints each cluster command's help without a cluster", async () => {
    const status = await runCommand(main, ["status", "--help"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("-A, --all-namespaces");
    expect(status.stdout).toContain("--kubeconfig PATH");
    expect(status.stdout).toContain("--context NAME");
  });
});

describe("cluster flags", () => {
  it("scope: one namespace (the context's by default) or all", () => {
    expect(scopeFromFlags({})).toEqual({ all: false, namespace: undefined });
    expect(scopeFromFlags({ namespace: "shop" })).toEqual({ all: false, namespace: "shop" });
    expect(scopeFromFlags({ "all-namespaces": true })).toEqual({ all: true });
    expect(() => scopeFromFlags({ namespace: "shop", "all-namespaces": true })).toThrow(UsageError);
    expect(() => scopeFromFlags({ namespace: "" })).toThrow(/-n needs a namespace name/);
  });

  it("knows when there is no kubeconfig to fall back on", async () => {
    const home = await mkdtemp(join(tmpdir(), "lw-home-"));
    expect(hasDefaultKubeconfig({}, home)).toBe(false);
    expect(hasDefaultKubeconfig({ KUBECONFIG: "" }, home)).toBe(false);
    expect(hasDefaultKubeconfig({ KUBECONFIG: "/a:/b" }, home)).toBe(true);
    expect(hasDefaultKubeconfig({ KUBERNETES_SERVICE_HOST: "10.0.0.1" }, home)).toBe(true);
    await mkdir(join(home, ".kube"));
    await writeFile(join(home, ".kube", "config"), "apiVersion: v1\n");
    expect(hasDefaultKubeconfig({}, home)).toBe(true);
  });

  it("says so in one line instead of trying localhost:8080", async () => {
    const home = await mkdtemp(join(tmpdir(), "lw-home-"));
    const r = await runCommand(
      (argv, io) => main(argv, { ...io, env: { HOME: home } }),
      ["captures", "list"],
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "leakwatch captures list: no kubeconfig: pass --kubeconfig PATH, set KUBECONFIG, or create ~/.kube/config\n",
    );
  });

  it("names the program as the user runs it", () => {
    expect(programName("/usr/local/bin/kubectl-leakwatch")).toBe("kubectl leakwatch");
    expect(programName("/usr/local/bin/leakwatch")).toBe("leakwatch");
    expect(programName("/work/src/main.ts")).toBe("leakwatch");
    expect(programName(undefined)).toBe("leakwatch");
  });
});
