// Finds the control-plane binaries the way envtest does (KUBEBUILDER_ASSETS, TEST_ASSET_*), or
// builds them from the Go modules pinned under tools/ (cached under ~/.cache/leakwatch).
import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export type BinaryName =
  "etcd" | "kube-apiserver" | "kube-controller-manager" | "kubectl" | "helm" | "leaky-app";

const SET_OF: Record<BinaryName, string> = {
  etcd: "etcd",
  "kube-apiserver": "k8s",
  "kube-controller-manager": "k8s",
  kubectl: "k8s",
  helm: "helm",
  "leaky-app": "leaky",
};

const ENV_OF: Partial<Record<BinaryName, string>> = {
  etcd: "TEST_ASSET_ETCD",
  "kube-apiserver": "TEST_ASSET_KUBE_APISERVER",
  kubectl: "TEST_ASSET_KUBECTL",
  "kube-controller-manager": "TEST_ASSET_KUBE_CONTROLLER_MANAGER",
};

export class BinaryNotFoundError extends Error {
  override readonly name = "BinaryNotFoundError";
  readonly code = "LW_BINARY_NOT_FOUND";
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where each binary is: an explicit TEST_ASSET_* path, then KUBEBUILDER_ASSETS, then our build. */
export async function findBinaries<N extends BinaryName>(
  names: readonly N[],
  env: NodeJS.ProcessEnv = process.env,
  onProgress: (line: string) => void = () => undefined,
): Promise<Record<N, string>> {
  const found = {} as Record<N, string>;
  const missing: N[] = [];
  for (const name of names) {
    const explicit = ENV_OF[name] === undefined ? undefined : env[ENV_OF[name]];
    const assets = env.KUBEBUILDER_ASSETS;
    const candidates = [explicit, assets === undefined ? undefined : join(assets, name)];
    let path: string | undefined;
    for (const candidate of candidates) {
      if (candidate !== undefined && (await executable(candidate))) {
        path = candidate;
        break;
      }
    }
    if (explicit !== undefined && path === undefined) {
      throw new BinaryNotFoundError(`${ENV_OF[name] ?? name}=${explicit} is not an executable file`);
    }
    if (path === undefined) missing.push(name);
    else found[name] = path;
  }
  if (missing.length > 0) Object.assign(found, await build(missing, onProgress));
  return found;
}

async function build<N extends BinaryName>(
  names: readonly N[],
  onProgress: (line: string) => void,
): Promise<Record<N, string>> {
  const sets = [...new Set(names.map((n) => SET_OF[n]))];
  onProgress(`building ${sets.join(", ")} with Go (cached after the first run)`);
  let stdout: string;
  try {
    ({ stdout } = await run("bash", [join(REPO_ROOT, "scripts/build-tools.sh"), ...sets], {
      cwd: REPO_ROOT,
      maxBuffer: 1 << 20,
    }));
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new BinaryNotFoundError(
      `could not build ${sets.join(", ")} (is Go installed? or set KUBEBUILDER_ASSETS): ${stderr.slice(-2000)}`,
      { cause: err },
    );
  }
  const paths = new Map(
    stdout
      .trim()
      .split("\n")
      .map((line) => line.split("=", 2) as [string, string]),
  );
  const result = {} as Record<N, string>;
  for (const name of names) {
    const path = paths.get(name);
    if (path === undefined) throw new BinaryNotFoundError(`build-tools.sh did not report ${name}`);
    result[name] = path;
  }
  return result;
}
