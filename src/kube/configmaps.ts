// ConfigMaps as plain JSON (what KubeClient returns), their paths, and paginated lists — including
// metadata-only lists, so finding objects never downloads the data they hold.
import type { KubeClient } from "./client.ts";
import type { OwnerReference } from "./ownership.ts";

export interface ObjectMetadata {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface ConfigMap {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMetadata;
  data?: Record<string, string>;
  /** Values are base64, as the API serves them. */
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

interface List<T> {
  metadata?: { continue?: string };
  items?: T[];
}

export function configMapsPath(namespace: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
}

export function configMapPath(namespace: string, name: string): string {
  return `${configMapsPath(namespace)}/${encodeURIComponent(name)}`;
}

const METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

/** All ConfigMaps matching `labelSelector`, in pages of `pageSize`. */
export async function listConfigMaps(
  client: Pick<KubeClient, "get">,
  namespace: string,
  labelSelector: string,
  pageSize = 100,
): Promise<ConfigMap[]> {
  return listPaged<ConfigMap>(client, namespace, labelSelector, pageSize, undefined);
}

/** Names, labels and timestamps only: the API server leaves data and binaryData out. */
export async function listConfigMapMetadata(
  client: Pick<KubeClient, "get">,
  namespace: string,
  labelSelector: string,
): Promise<{ metadata: ObjectMetadata }[]> {
  return listPaged<{ metadata: ObjectMetadata }>(client, namespace, labelSelector, 500, METADATA_ONLY);
}

async function listPaged<T>(
  client: Pick<KubeClient, "get">,
  namespace: string,
  labelSelector: string,
  pageSize: number,
  accept: string | undefined,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page: List<T> = await client.get<List<T>>(configMapsPath(namespace), {
      query: { labelSelector, limit: pageSize, continue: token },
      ...(accept === undefined ? {} : { accept }),
    });
    items.push(...(page.items ?? []));
    token = page.metadata?.continue === "" ? undefined : page.metadata?.continue;
  } while (token !== undefined);
  return items;
}
