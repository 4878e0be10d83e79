// Starts one real control plane (etcd + kube-apiserver, RBAC on) for the whole integration run,
// installs the CRD, and hands the connection details to the test files. Teardown stops it; if the
// runner dies instead, the control plane's reaper kills what is left.
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";
import { startControlPlane } from "../../src/localcluster/controlplane.ts";
import { run } from "../../src/localcluster/kubectl.ts";

export interface ControlPlaneInfo {
  server: string;
  kubeconfigPath: string;
  kubectlPath: string;
  caPath: string;
  adminToken: string;
  dir: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const cp = await startControlPlane({
    onProgress: (line) => {
      console.log(`[control plane] ${line}`);
    },
  });
  await run(cp, ["apply", "--server-side", "-f", join(REPO_ROOT, "crds")]);
  await run(cp, ["wait", "--for=condition=Established", "--timeout=60s", "crd/leakwatches.leakwatch.dev"]);
  console.log(`[control plane] ready at ${cp.server} in ${Date.now() - started} ms (${cp.dir})`);
  project.provide("controlPlane", {
    server: cp.server,
    kubeconfigPath: cp.kubeconfigPath,
    kubectlPath: cp.kubectlPath,
    caPath: cp.caPath,
    adminToken: cp.adminToken,
    dir: cp.dir,
  });
  return async () => {
    await cp.stop();
  };
}
