// Scrape credentials from Secrets in the LeakWatch's own namespace — never another namespace, never
// cluster-wide (the namespace owner grants read access with a RoleBinding). Values are cached
// briefly and never logged.
import type { KubeClient } from "./client.ts";
import { KubeError } from "./errors.ts";

export class SecretKeyMissingError extends KubeError {
  override readonly name = "SecretKeyMissingError";
  override readonly code = "LW_SECRET_KEY_MISSING";
  constructor(namespace: string, name: string, key: string) {
    super(`secret ${namespace}/${name} has no key "${key}"`, false);
  }
}

interface SecretBody {
  data?: Record<string, string>;
}

const MAX_SECRET_VALUE = 64 * 1024;

export class SecretReader {
  private readonly cache = new Map<string, { value: string; at: number }>();
  private readonly client: KubeClient;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(client: KubeClient, options: { ttlMs?: number; now?: () => number } = {}) {
    this.client = client;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** One key of a Secret in `namespace`, as UTF-8 text (tokens, PEM bundles). */
  async read(namespace: string, name: string, key: string, signal?: AbortSignal): Promise<string> {
    const cacheKey = `${namespace}\u0000${name}\u0000${key}`;
    const hit = this.cache.get(cacheKey);
    if (hit !== undefined && this.now() - hit.at < this.ttlMs) return hit.value;
    const secret = await this.client.get<SecretBody>(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      { maxBytes: 1 << 20, ...(signal === undefined ? {} : { signal }) },
    );
    const encoded = secret.data?.[key];
    if (encoded === undefined) throw new SecretKeyMissingError(namespace, name, key);
    const value = Buffer.from(encoded, "base64").toString("utf8").trim().slice(0, MAX_SECRET_VALUE);
    this.cache.set(cacheKey, { value, at: this.now() });
    return value;
  }
}
