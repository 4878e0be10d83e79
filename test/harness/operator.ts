// Runs `leakwatch run` as a real child process against the test control plane, so tests can kill
// it, restart it, or run two of them. Its JSON log lines are kept for assertions.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";
import { ProcessGroup, type ManagedProcess } from "../../src/localcluster/processes.ts";
import { controlPlane } from "./kube.ts";

let group: ProcessGroup | undefined;
let counter = 0;

// Registered when a test file imports this module, so it runs after that file's tests.
afterAll(async () => {
  await group?.stopAll(5_000);
});

export interface OperatorProcess {
  readonly process: ManagedProcess;
  readonly metricsPort: number;
  metrics(): Promise<string>;
  /** Log lines (parsed JSON) printed so far. */
  logs(): Record<string, unknown>[];
  stop(): Promise<void>;
  kill(): void;
}

export interface OperatorOptions {
  args?: string[];
  kubeconfig?: string;
  env?: NodeJS.ProcessEnv;
  name?: string;
}

export async function startOperator(options: OperatorOptions = {}): Promise<OperatorProcess> {
  if (group === undefined) {
    group = new ProcessGroup(mkdtempSync(join(tmpdir(), "leakwatch-operators-")), true);
  }
  const name = options.name ?? `operator-${counter++}`;
  const proc = group.start(
    name,
    process.execPath,
    [
      join(REPO_ROOT, "src/main.ts"),
      "run",
      `--kubeconfig=${options.kubeconfig ?? controlPlane().kubeconfigPath}`,
      "--metrics-bind-address=127.0.0.1:0",
      "--log-level=debug",
      ...(options.args ?? []),
    ],
    { env: { ...process.env, POD_NAME: name, ...options.env }, cwd: REPO_ROOT },
  );
  const match = await proc.waitForOutput(/"port":(\d+)[^\n]*"msg":"leakwatch started"/, 30_000);
  const metricsPort = Number(match[1]);
  return {
    process: proc,
    metricsPort,
    metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    logs: () =>
      proc
        .tail(256 * 1024)
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    stop: async () => proc.stop(15_000),
    kill: () => {
      proc.signal("SIGKILL");
    },
  };
}
