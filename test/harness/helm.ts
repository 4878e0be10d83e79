// Real helm (built from its Go module by scripts/build-tools.sh), with its own config and cache
// directories so tests never touch the user's.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll } from "vitest";
import { findBinaries } from "../../src/localcluster/binaries.ts";

const exec = promisify(execFile);
const helmHome = mkdtempSync(join(tmpdir(), "lw-helm-"));
let helmPath: Promise<string> | undefined;

afterAll(() => {
  rmSync(helmHome, { recursive: true, force: true });
});

/** Runs helm; rejects with helm's stderr as the message. */
export async function helm(args: readonly string[]): Promise<string> {
  helmPath ??= findBinaries(["helm"]).then((b) => b.helm);
  try {
    const { stdout } = await exec(await helmPath, [...args], {
      env: {
        ...process.env,
        HELM_CACHE_HOME: join(helmHome, "cache"),
        HELM_CONFIG_HOME: join(helmHome, "config"),
        HELM_DATA_HOME: join(helmHome, "data"),
      },
      timeout: 60_000,
      maxBuffer: 16 << 20,
    });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`helm ${args.join(" ")}: ${stderr.trim()}`, { cause: err });
  }
}

/** Runs helm expecting failure; resolves with its message. */
export async function helmError(args: readonly string[]): Promise<string> {
  try {
    await helm(args);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`helm ${args.join(" ")} succeeded; it should have failed`);
}
