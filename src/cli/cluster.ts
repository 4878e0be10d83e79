// What every cluster command shares: the kubectl-like flags, loading the client from the current
// kubeconfig/context, the check that the LeakWatch API is served, and turning expected failures
// into one line on stderr with exit code 1.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { KubeClient } from "../kube/client.ts";
import { ALL_NAMESPACES, ensureLeakWatchApi, type NamespaceScope } from "../kube/leakwatches.ts";
import type { CommandIO } from "./command.ts";
import { UsageError } from "./command.ts";
import { describeClusterError } from "./kube-errors.ts";

export const CONNECTION_FLAGS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
} as const;

export const NAMESPACE_FLAGS = {
  namespace: { type: "string", short: "n" },
  "all-namespaces": { type: "boolean", short: "A" },
} as const;

export const CONNECTION_USAGE = `  --kubeconfig PATH     kubeconfig (default: $KUBECONFIG, else ~/.kube/config, else in-cluster)
  --context NAME        kubeconfig context (default: the current context)`;

export interface ConnectionOptions {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
}

/** Where to look: one namespace (undefined: the context's), or all of them. */
export type Scope = { readonly all: true } | { readonly all: false; readonly namespace: string | undefined };

export function scopeFromFlags(values: { namespace?: string; "all-namespaces"?: boolean }): Scope {
  if (values["all-namespaces"] === true) {
    if (values.namespace !== undefined) throw new UsageError("use -n NAMESPACE or -A, not both");
    return { all: true };
  }
  if (values.namespace === "") throw new UsageError("-n needs a namespace name");
  return { all: false, namespace: values.namespace };
}

export interface Cluster {
  readonly client: KubeClient;
  /** The namespace the command works in: the flag's, else the kubeconfig context's (or all). */
  namespaceOf(scope: Scope): NamespaceScope;
  /** The flag's namespace, else the kubeconfig context's. */
  namespace(flag: string | undefined): string;
}

/**
 * Loads the client, checks that the LeakWatch API is served, runs `body`; expected failures are
 * printed as `leakwatch <command>: <one line>` and give exit code 1.
 */
export async function withCluster(
  command: string,
  options: ConnectionOptions & { readonly namespace?: string | undefined },
  io: CommandIO,
  body: (cluster: Cluster) => Promise<number>,
): Promise<number> {
  let client: KubeClient | undefined;
  if (options.kubeconfig === undefined && !hasDefaultKubeconfig(io.env)) {
    io.stderr.write(
      `leakwatch ${command}: no kubeconfig: pass --kubeconfig PATH, set KUBECONFIG, or create ~/.kube/config\n`,
    );
    return 1;
  }
  try {
    client = await KubeClient.load({
      ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }),
      ...(options.context === undefined ? {} : { context: options.context }),
      userAgent: "leakwatch-cli",
    });
    await ensureLeakWatchApi(client, io.signal);
    const loaded = client;
    return await body({
      client: loaded,
      namespaceOf: (scope) => (scope.all ? ALL_NAMESPACES : (scope.namespace ?? loaded.currentNamespace)),
      namespace: (flag) => flag ?? loaded.currentNamespace,
    });
  } catch (err) {
    if (io.signal.aborted) return 130; // Ctrl-C: the user knows
    const line = describeClusterError(err, {
      server: client?.server,
      context: options.context,
      namespace: options.namespace ?? client?.currentNamespace,
    });
    if (line === undefined) throw err;
    io.stderr.write(`leakwatch ${command}: ${line}\n`);
    return 1;
  } finally {
    client?.close();
  }
}

/**
 * What client-node would find without --kubeconfig: $KUBECONFIG, ~/.kube/config, or the in-cluster
 * service account. Without any, it falls back to http://localhost:8080 and fails confusingly.
 */
export function hasDefaultKubeconfig(env: NodeJS.ProcessEnv, home = env.HOME ?? homedir()): boolean {
  if ((env.KUBECONFIG ?? "") !== "") return true;
  if (env.KUBERNETES_SERVICE_HOST !== undefined) return true;
  return existsSync(join(home, ".kube", "config"));
}

/** How the user runs us: "kubectl leakwatch" as a kubectl plugin, else "leakwatch". */
export function programName(argv1: string | undefined = process.argv[1]): string {
  return basename(argv1 ?? "").startsWith("kubectl-") ? "kubectl leakwatch" : "leakwatch";
}
