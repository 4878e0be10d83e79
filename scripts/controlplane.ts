// `npm run controlplane`: starts the local control plane by hand for exploration, prints the
// kubeconfig path, and runs until Ctrl-C (which tears everything down).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startControlPlane } from "../src/localcluster/controlplane.ts";
import { REPO_ROOT } from "../src/localcluster/binaries.ts";
import { run } from "../src/localcluster/kubectl.ts";

const withKcm = process.argv.includes("--controller-manager");
const cp = await startControlPlane({
  controllerManager: withKcm,
  onProgress: (line) => {
    console.error(line);
  },
});
await run(cp, ["apply", "--server-side", "-f", join(REPO_ROOT, "crds")]);
console.log(`control plane up at ${cp.server}; the LeakWatch CRD is installed.

  export KUBECONFIG=${cp.kubeconfigPath}
  ${cp.kubectlPath} get lw -A

Ctrl-C stops it and removes ${cp.dir}.`);
await readFile(cp.kubeconfigPath, "utf8");
await new Promise<void>((resolveStop) => {
  process.once("SIGINT", resolveStop);
  process.once("SIGTERM", resolveStop);
});
await cp.stop();
