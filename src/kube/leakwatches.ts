// Reading LeakWatch objects for people (the CLI): list one namespace or all, get one by name, and
// tell "the CRD is not installed" apart from "no LeakWatch here". Read-only.
import { API_VERSION, GROUP, PLURAL } from "../api/group.ts";
import type { LeakWatch } from "../api/types.ts";
import type { KubeClient } from "./client.ts";
import { KubeError, isNotFound } from "./errors.ts";

/** GET /apis/leakwatch.dev/v1alpha1 answered 404: the API server does not serve LeakWatches. */
export class LeakWatchCrdMissingError extends KubeError {
  override readonly name = "LeakWatchCrdMissingError";
  override readonly code = "LW_CRD_MISSING";
  readonly server: string;
  constructor(server: string, options?: ErrorOptions) {
    super(`the API server at ${server} does not serve ${PLURAL}.${GROUP} (${API_VERSION})`, false, options);
    this.server = server;
  }
}

interface List<T> {
  metadata?: { continue?: string };
  items?: T[];
}

interface APIResourceList {
  resources?: { name: string }[];
}

type Reader = Pick<KubeClient, "get" | "server">;

/** Stands for every namespace (a namespace may well be named "all"). */
export const ALL_NAMESPACES: unique symbol = Symbol("all namespaces");
export type NamespaceScope = string | typeof ALL_NAMESPACES;

/** Throws LeakWatchCrdMissingError unless the API server serves leakwatches.leakwatch.dev. */
export async function ensureLeakWatchApi(client: Reader, signal?: AbortSignal): Promise<void> {
  let list: APIResourceList;
  try {
    list = await client.get<APIResourceList>(`/apis/${API_VERSION}`, signalOption(signal));
  } catch (err) {
    if (isNotFound(err)) throw new LeakWatchCrdMissingError(client.server, { cause: err });
    throw err;
  }
  if (!(list.resources ?? []).some((r) => r.name === PLURAL))
    throw new LeakWatchCrdMissingError(client.server);
}

export function leakWatchesPath(namespace: NamespaceScope): string {
  return namespace === ALL_NAMESPACES
    ? `/apis/${API_VERSION}/${PLURAL}`
    : `/apis/${API_VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}`;
}

/** Every LeakWatch of a namespace (or of all, with ALL_NAMESPACES), sorted by namespace and name. */
export async function listLeakWatches(
  client: Reader,
  namespace: NamespaceScope,
  signal?: AbortSignal,
): Promise<LeakWatch[]> {
  const items: LeakWatch[] = [];
  let token: string | undefined;
  do {
    const page: List<LeakWatch> = await client.get<List<LeakWatch>>(leakWatchesPath(namespace), {
      query: { limit: 200, continue: token },
      ...signalOption(signal),
    });
    items.push(...(page.items ?? []));
    token = page.metadata?.continue === "" ? undefined : page.metadata?.continue;
  } while (token !== undefined);
  return items.sort(
    (a, b) =>
      a.metadata.namespace.localeCompare(b.metadata.namespace) ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
}

/** One LeakWatch, or undefined when there is none of that name. */
export async function getLeakWatch(
  client: Reader,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<LeakWatch | undefined> {
  try {
    return await client.get<LeakWatch>(
      `${leakWatchesPath(namespace)}/${encodeURIComponent(name)}`,
      signalOption(signal),
    );
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}
