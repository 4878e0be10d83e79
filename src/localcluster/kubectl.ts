import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

export class KubectlError extends Error {
  override readonly name = "KubectlError";
  readonly code = "LW_KUBECTL";
  readonly stderr: string;
  constructor(args: readonly string[], stderr: string, cause: unknown) {
    super(`kubectl ${args.join(" ")} failed: ${stderr.trim()}`, { cause });
    this.stderr = stderr;
  }
}

/** Runs kubectl against a cluster; resolves with stdout, rejects with a KubectlError carrying stderr. */
export async function run(
  cluster: { kubectlPath: string; kubeconfigPath: string },
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const full = ["--kubeconfig", cluster.kubeconfigPath, ...args];
  try {
    const child = exec(cluster.kubectlPath, full, {
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 16 << 20,
    });
    if (options.input !== undefined) child.child.stdin?.end(options.input);
    const { stdout } = await child;
    return stdout;
  } catch (err) {
    throw new KubectlError(args, (err as { stderr?: string }).stderr ?? String(err), err);
  }
}
