// Pod informers only for namespaces that have LeakWatches: started when the first LeakWatch of a
// namespace appears, stopped when the last one goes. Pods are trimmed before they are cached.
import type { KubeClient } from "../kube/client.ts";
import { Informer } from "../kube/informer.ts";
import type { Logger } from "../kube/logger.ts";
import { trimPod, type PodInfo } from "../kube/pods.ts";

export class PodInformers {
  private readonly informers = new Map<string, { informer: Informer<PodInfo>; users: Set<string> }>();
  private readonly client: KubeClient;
  private readonly logger: Logger;
  private readonly onChange: (namespace: string) => void;

  constructor(options: { client: KubeClient; logger: Logger; onChange: (namespace: string) => void }) {
    this.client = options.client;
    this.logger = options.logger;
    this.onChange = options.onChange;
  }

  /** The namespace's pod informer, started on first use by `user` (a LeakWatch key). */
  acquire(namespace: string, user: string): Informer<PodInfo> {
    let entry = this.informers.get(namespace);
    if (entry === undefined) {
      const informer = new Informer<PodInfo>({
        client: this.client,
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        trim: (raw) => trimPod(raw),
        same: (a, b) => a.resourceVersion === b.resourceVersion,
        logger: this.logger,
        name: `pods/${namespace}`,
      });
      const notify = (): void => {
        this.onChange(namespace);
      };
      informer.on("add", notify);
      informer.on("update", notify);
      informer.on("delete", notify);
      informer.start();
      entry = { informer, users: new Set() };
      this.informers.set(namespace, entry);
    }
    entry.users.add(user);
    return entry.informer;
  }

  /** The namespace's pod informer if one runs (never starts one). */
  peek(namespace: string): Informer<PodInfo> | undefined {
    return this.informers.get(namespace)?.informer;
  }

  async release(namespace: string, user: string): Promise<void> {
    const entry = this.informers.get(namespace);
    if (entry === undefined) return;
    entry.users.delete(user);
    if (entry.users.size > 0) return;
    this.informers.delete(namespace);
    await entry.informer.stop();
  }

  all(): Informer<PodInfo>[] {
    return [...this.informers.values()].map((e) => e.informer);
  }

  async stopAll(): Promise<void> {
    const all = [...this.informers.values()];
    this.informers.clear();
    await Promise.all(all.map((e) => e.informer.stop()));
  }
}
