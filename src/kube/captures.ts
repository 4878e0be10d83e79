// Captures (profiles + "what grew" report) stored as ConfigMaps in the LeakWatch's namespace,
// owned by the LeakWatch. Parts are written first and the manifest last, so a capture is listed
// only once it is whole; reading checks every byte against the manifest's hashes.
import type { CaptureRef } from "../api/types.ts";
import {
  CAPTURE_HARD_MAX_BYTES,
  assembleFiles,
  captureName,
  parseManifest,
  planCapture,
  sameContent,
  type CaptureFiles,
  type CaptureMeta,
  type Manifest,
  type PlannedPart,
  type StoredCaptureMeta,
} from "./capture-layout.ts";
import {
  CaptureConflictError,
  CaptureCorruptError,
  CaptureIncompleteError,
  CaptureNotFoundError,
} from "./capture-errors.ts";
import type { KubeClient } from "./client.ts";
import { eachLimited } from "./concurrency.ts";
import {
  configMapPath,
  configMapsPath,
  listConfigMapMetadata,
  listConfigMaps,
  type ConfigMap,
} from "./configmaps.ts";
import { isConflict, isNotFound } from "./errors.ts";
import { silentLogger, type Logger } from "./logger.ts";
import { LABELS, MANAGED_BY, labelValue, ownerReference } from "./ownership.ts";

export type { CaptureFiles, CaptureMeta, StoredCaptureMeta } from "./capture-layout.ts";
import type { CaptureFileName } from "./capture-layout.ts";

export interface SavedCapture {
  name: string;
  /** Bytes stored (after the size policy). */
  bytes: number;
  /** False when the size policy dropped or cut a file (see meta.omitted). */
  complete: boolean;
  meta: StoredCaptureMeta;
}

export interface CaptureSummary extends SavedCapture {
  files: { name: string; bytes: number }[];
}

export interface Capture {
  name: string;
  meta: StoredCaptureMeta;
  files: CaptureFiles;
}

export interface SaveOptions {
  /** captures.maxBytes, 64 KiB–64 MiB. */
  maxBytes: number;
  /** Default: captureName(leakWatch, pod, createdAt), so a retried save finds its own objects. */
  name?: string;
}

export interface CaptureStore {
  save(files: CaptureFiles, meta: CaptureMeta, options: SaveOptions): Promise<SavedCapture>;
  /** Whole captures only, newest first. */
  list(namespace: string, leakWatchName?: string): Promise<CaptureSummary[]>;
  get(namespace: string, name: string): Promise<Capture>;
  /** Deletes all but the newest `keep` captures of a LeakWatch; returns the deleted names. */
  prune(namespace: string, leakWatchName: string, keep: number): Promise<string[]>;
  /** Deletes parts older than `olderThanMs` whose manifest was never written; returns their names. */
  sweepOrphans(namespace: string, olderThanMs: number): Promise<string[]>;
}

/** The calls the store makes (a KubeClient, or a wrapper in tests). */
export type CaptureClient = Pick<KubeClient, "get" | "create" | "delete">;

const MANIFEST_KEY = "manifest.json";
const ROLE_MANIFEST = "manifest";
const ROLE_PART = "part";
const WRITE_CONCURRENCY = 4;

export class ConfigMapCaptureStore implements CaptureStore {
  private readonly client: CaptureClient;
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(options: { client: CaptureClient; logger?: Logger; now?: () => number }) {
    this.client = options.client;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  async save(files: CaptureFiles, meta: CaptureMeta, options: SaveOptions): Promise<SavedCapture> {
    if (!(options.maxBytes > 0 && options.maxBytes <= CAPTURE_HARD_MAX_BYTES)) {
      throw new RangeError(`maxBytes must be within 1–${CAPTURE_HARD_MAX_BYTES}, got ${options.maxBytes}`);
    }
    if (meta.namespace === "" || meta.leakWatch.uid === "") {
      throw new RangeError("a capture needs its LeakWatch's namespace and uid");
    }
    const name = options.name ?? captureName(meta.leakWatch.name, meta.pod, meta.createdAt);
    // The name is also the value of every part's capture label.
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
      throw new RangeError(
        `capture name must be a DNS label of at most 63 characters, got ${JSON.stringify(name)}`,
      );
    }
    const plan = planCapture(name, files, meta, options.maxBytes);
    const existing = await this.readManifest(meta.namespace, name);
    if (existing !== undefined) return this.sameOrConflict(existing, plan.manifest);

    await eachLimited(plan.parts, WRITE_CONCURRENCY, (part) => this.writePart(plan.manifest, part));
    const manifestMap = this.object(plan.manifest, ROLE_MANIFEST, name, {
      data: { [MANIFEST_KEY]: JSON.stringify(plan.manifest) },
    });
    try {
      await this.client.create(configMapsPath(meta.namespace), manifestMap);
    } catch (err) {
      if (!isConflict(err)) throw err;
      const raced = await this.readManifest(meta.namespace, name);
      if (raced === undefined) throw err;
      return this.sameOrConflict(raced, plan.manifest);
    }
    return saved(plan.manifest);
  }

  async list(namespace: string, leakWatchName?: string): Promise<CaptureSummary[]> {
    const selector = [
      `${LABELS.managedBy}=${MANAGED_BY}`,
      `${LABELS.captureRole}=${ROLE_MANIFEST}`,
      ...(leakWatchName === undefined ? [] : [`${LABELS.leakWatch}=${labelValue(leakWatchName)}`]),
    ].join(",");
    const summaries: CaptureSummary[] = [];
    for (const cm of await listConfigMaps(this.client, namespace, selector, 50)) {
      let manifest: Manifest;
      try {
        manifest = parseManifest(cm.metadata.name, cm.data?.[MANIFEST_KEY]);
      } catch (err) {
        this.logger.warn(
          { err, capture: cm.metadata.name, namespace },
          "unreadable capture manifest skipped",
        );
        continue;
      }
      if (leakWatchName !== undefined && manifest.meta.leakWatch.name !== leakWatchName) continue;
      summaries.push({
        ...saved(manifest),
        files: manifest.files.map((f) => ({ name: f.name, bytes: f.bytes })),
      });
    }
    return summaries.sort(newestFirst);
  }

  async get(namespace: string, name: string): Promise<Capture> {
    const manifest = await this.readManifest(namespace, name);
    if (manifest === undefined) {
      const parts = await listConfigMapMetadata(
        this.client,
        namespace,
        `${LABELS.capture}=${labelValue(name)}`,
      );
      if (parts.length > 0) {
        throw new CaptureIncompleteError(name, `capture ${name} has ${parts.length} part(s) but no manifest`);
      }
      throw new CaptureNotFoundError(name);
    }
    const parts = new Map<string, Map<string, Buffer>>();
    await eachLimited(manifest.parts, WRITE_CONCURRENCY, async (part) => {
      let cm: ConfigMap;
      try {
        cm = await this.client.get<ConfigMap>(configMapPath(namespace, part.name));
      } catch (err) {
        if (isNotFound(err)) {
          throw new CaptureIncompleteError(name, `capture ${name}: part ${part.name} is missing`, {
            cause: err,
          });
        }
        throw err;
      }
      parts.set(part.name, decodeBinary(cm));
    });
    return { name, meta: manifest.meta, files: assembleFiles(manifest, parts) };
  }

  async prune(namespace: string, leakWatchName: string, keep: number): Promise<string[]> {
    const captures = await this.list(namespace, leakWatchName);
    const doomed = captures.slice(Math.max(0, keep));
    for (const capture of doomed) await this.remove(namespace, capture.name);
    return doomed.map((c) => c.name);
  }

  async sweepOrphans(namespace: string, olderThanMs: number): Promise<string[]> {
    // Parts first, manifests second: a save that finishes in between keeps its parts.
    const parts = await listConfigMapMetadata(
      this.client,
      namespace,
      `${LABELS.managedBy}=${MANAGED_BY},${LABELS.captureRole}=${ROLE_PART}`,
    );
    const manifests = await listConfigMapMetadata(
      this.client,
      namespace,
      `${LABELS.managedBy}=${MANAGED_BY},${LABELS.captureRole}=${ROLE_MANIFEST}`,
    );
    const whole = new Set(manifests.map((m) => m.metadata.labels?.[LABELS.capture]));
    const cutoff = this.now() - olderThanMs;
    const removed: string[] = [];
    for (const part of parts) {
      const created = Date.parse(part.metadata.creationTimestamp ?? "");
      if (whole.has(part.metadata.labels?.[LABELS.capture]) || !(created < cutoff)) continue;
      await this.deleteQuietly(namespace, part.metadata.name);
      removed.push(part.metadata.name);
    }
    if (removed.length > 0) this.logger.info({ namespace, parts: removed }, "orphaned capture parts deleted");
    return removed;
  }

  /** The manifest goes first, so a capture stops being listed before its parts disappear. */
  private async remove(namespace: string, name: string): Promise<void> {
    const manifest = await this.readManifest(namespace, name).catch((err: unknown) => {
      if (err instanceof CaptureCorruptError) return undefined;
      throw err;
    });
    await this.deleteQuietly(namespace, name);
    for (const part of manifest?.parts ?? []) await this.deleteQuietly(namespace, part.name);
  }

  private async writePart(manifest: Manifest, part: PlannedPart): Promise<void> {
    const namespace = manifest.meta.namespace;
    const body = this.object(manifest, ROLE_PART, part.name, {
      binaryData: Object.fromEntries([...part.data].map(([k, v]) => [k, v.toString("base64")])),
    });
    try {
      await this.client.create(configMapsPath(namespace), body);
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    // Left by an earlier attempt: keep it if it holds the same bytes, else replace it.
    const current = await this.client.get<ConfigMap>(configMapPath(namespace, part.name));
    if (sameBinary(current.binaryData ?? {}, body.binaryData ?? {})) return;
    await this.deleteQuietly(namespace, part.name);
    await this.client.create(configMapsPath(namespace), body);
  }

  private object(
    manifest: Manifest,
    role: string,
    name: string,
    payload: Pick<ConfigMap, "data" | "binaryData">,
  ): ConfigMap {
    const meta = manifest.meta;
    return {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name,
        namespace: meta.namespace,
        labels: {
          [LABELS.managedBy]: MANAGED_BY,
          [LABELS.component]: "capture",
          [LABELS.leakWatch]: labelValue(meta.leakWatch.name),
          [LABELS.pod]: labelValue(meta.pod),
          [LABELS.capture]: manifest.name,
          [LABELS.captureRole]: role,
        },
        ownerReferences: [
          ownerReference({ namespace: meta.namespace, name: meta.leakWatch.name, uid: meta.leakWatch.uid }),
        ],
      },
      immutable: true,
      ...payload,
    };
  }

  private async readManifest(namespace: string, name: string): Promise<Manifest | undefined> {
    try {
      const cm = await this.client.get<ConfigMap>(configMapPath(namespace, name));
      if (cm.metadata.labels?.[LABELS.captureRole] !== ROLE_MANIFEST) {
        throw new CaptureCorruptError(name, `${name} is not a capture manifest`);
      }
      return parseManifest(name, cm.data?.[MANIFEST_KEY]);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private sameOrConflict(existing: Manifest, wanted: Manifest): SavedCapture {
    if (!sameContent(existing, wanted)) {
      throw new CaptureConflictError(
        existing.name,
        `capture ${existing.name} already exists with other content`,
      );
    }
    return saved(existing);
  }

  private async deleteQuietly(namespace: string, name: string): Promise<void> {
    try {
      await this.client.delete(configMapPath(namespace, name));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** The status table's row for a capture. */
export function toCaptureRef(capture: SavedCapture): CaptureRef {
  return {
    name: capture.name,
    pod: capture.meta.pod,
    time: capture.meta.createdAt,
    headline: capture.meta.headline.slice(0, 512),
    bytes: capture.bytes,
    complete: capture.complete,
  };
}

function saved(manifest: Manifest): SavedCapture {
  return {
    name: manifest.name,
    bytes: manifest.totalBytes,
    complete: manifest.meta.omitted.length === 0,
    meta: manifest.meta,
  };
}

function newestFirst(a: SavedCapture, b: SavedCapture): number {
  const byTime = Date.parse(b.meta.createdAt) - Date.parse(a.meta.createdAt);
  return byTime !== 0 ? byTime : a.name < b.name ? 1 : a.name > b.name ? -1 : 0;
}

function decodeBinary(cm: ConfigMap): Map<string, Buffer> {
  return new Map(Object.entries(cm.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")]));
}

function sameBinary(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** The files a capture holds, in the order they are written; files the size policy dropped are left out. */
export function captureFileList(capture: Capture): [CaptureFileName, Buffer][] {
  const dropped = new Set(capture.meta.omitted.filter((o) => o.action === "dropped").map((o) => o.file));
  const order: CaptureFileName[] = [
    "heap.pb.gz",
    "base-heap.pb.gz",
    "goroutine.pb.gz",
    "report.txt",
    "report.json",
  ];
  const out: [CaptureFileName, Buffer][] = [];
  for (const name of order) {
    const value = capture.files[name];
    if (value === undefined || dropped.has(name)) continue;
    out.push([name, typeof value === "string" ? Buffer.from(value, "utf8") : value]);
  }
  return out;
}
