// Real Go services for tests: examples/leaky-app processes listening on loopback addresses, which
// test pods point their status.podIP at. Every process is stopped after the test file, and reaped
// if the worker dies.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { findBinaries } from "../../src/localcluster/binaries.ts";
import { ProcessGroup, type ManagedProcess } from "../../src/localcluster/processes.ts";

let group: ProcessGroup | undefined;
let counter = 0;

// Registered when a test file imports this module, so it runs after that file's tests.
afterAll(async () => {
  await group?.stopAll(2_000);
});

export interface LeakyApp {
  readonly host: string;
  readonly port: number;
  readonly process: ManagedProcess;
  /** Switches the running behaviour (leaks keep what they retained). */
  setBehaviour(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Each test file gets a distinct 127.x.y.z range so parallel files never collide (127.77.x.y is
 * the demo's, so it is skipped).
 */
export function loopbackAddress(index: number): string {
  const pick = (process.pid % 200) + 20;
  const base = pick >= 77 ? pick + 1 : pick;
  return `127.${base}.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

export async function startLeakyApp(options: {
  behaviour: string;
  rate?: string;
  goroutineRate?: number;
  tick?: string;
  host?: string;
  port?: number;
  extraArgs?: string[];
  /** argv prefix to run it elsewhere, e.g. inside a network namespace. */
  wrapper?: readonly string[];
}): Promise<LeakyApp> {
  const { "leaky-app": bin } = await findBinaries(["leaky-app"]);
  if (group === undefined) {
    group = new ProcessGroup(mkdtempSync(join(tmpdir(), "leakwatch-apps-")), true);
  }
  const host = options.host ?? loopbackAddress(counter++);
  const args = [
    "-listen",
    `${host}:${options.port ?? 0}`,
    "-behaviour",
    options.behaviour,
    "-rate",
    options.rate ?? "256KiB",
    "-tick",
    options.tick ?? "100ms",
    ...(options.goroutineRate === undefined ? [] : ["-goroutine-rate", String(options.goroutineRate)]),
    ...(options.extraArgs ?? []),
  ];
  const [command = bin, ...rest] = [...(options.wrapper ?? []), bin, ...args];
  const proc = group.start(`leaky-app-${host}-${options.behaviour}`, command, rest);
  const match = await proc.waitForOutput(/listening on [\d.]+:(\d+)/, 30_000);
  const port = Number(match[1]);
  return {
    host,
    port,
    process: proc,
    setBehaviour: async (name) => {
      const res = await fetch(`http://${host}:${port}/behaviour?name=${encodeURIComponent(name)}`, {
        method: "POST",
      });
      if (!res.ok) throw new Error(`leaky-app refused behaviour ${name}: ${await res.text()}`);
    },
    stop: async () => proc.stop(2_000),
  };
}
