// `npm run demo -- --non-interactive`: the newcomer's first command, run for real — its own control
// plane, a leaking and a healthy Go service, the operator — until the leak is captured.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";

describe("npm run demo", () => {
  it(
    "catches the leak, shows the event and the call site, and exits 0",
    async () => {
      const child = spawn(
        process.execPath,
        [join(REPO_ROOT, "src/main.ts"), "demo", "--non-interactive", "--timeout-minutes", "8"],
        {
          cwd: REPO_ROOT,
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      // Interrupted (it tears its control plane and services down) if the test ends first.
      onTestFinished(() => {
        if (child.exitCode === null) child.kill("SIGINT");
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
      const code = await new Promise<number | null>((resolveExit) => child.once("exit", resolveExit));
      expect(code, output).toBe(0);
      expect(output).toMatch(/\[pods\] leaky-app-\S+=Leaking/);
      expect(output).toMatch(/steady-app-\S+=Healthy/);
      expect(output).toContain("Leak detected and captured");
      expect(output).toMatch(/Warning {2}MemoryLeakDetected {2}pod\/leaky-app-/);
      expect(output).toMatch(/main\.appendChunk \(leaks\.go:\d+\)/);
      expect(output).toMatch(/go tool pprof -top -base \S+base-heap\.pb\.gz \S+heap\.pb\.gz/);
      expect(output).toContain("tearing down");
    },
    9 * 60_000,
  ); // the demo's own limit is 8 minutes
});
