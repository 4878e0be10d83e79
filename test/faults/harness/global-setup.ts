// The fault suite's global setup: the integration suite's shared control plane, plus a directory
// the runs report into; teardown prints the fault table (and leaves it in that directory).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import integrationSetup from "../../harness/global-setup.ts";
import { readRuns, renderTable } from "./table.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), "leakwatch-faults-"));
  project.provide("faultResults", dir);
  const stopControlPlane = await integrationSetup(project);
  const started = Date.now();
  return async () => {
    // The table first: stopping the control plane may outlast the runner's teardown timeout.
    const runs = readRuns(join(dir, "runs.jsonl"));
    const table = renderTable(runs);
    writeFileSync(join(dir, "table.md"), `${table}\n`);
    console.log(
      `\nFault injection: ${runs.length} runs in ${((Date.now() - started) / 1000).toFixed(0)} s ` +
        `(FAULT_RUNS=${process.env.FAULT_RUNS ?? "3"}); table also in ${join(dir, "table.md")}\n\n${table}\n`,
    );
    await stopControlPlane();
  };
}
