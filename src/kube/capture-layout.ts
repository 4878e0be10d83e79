// The pure half of the capture store: names, the size policy, how files are cut into part
// ConfigMaps, and the manifest that lists them (and proves them whole when read back).
import { createHash } from "node:crypto";
import { CaptureCorruptError, CaptureTooLargeError } from "./capture-errors.ts";
import { dnsFragment, shortHash } from "./ownership.ts";
import { truncateUtf8 } from "./text.ts";

export type ProfileFile = "heap.pb.gz" | "goroutine.pb.gz" | "base-heap.pb.gz";
export type ReportFile = "report.txt" | "report.json";
export type CaptureFileName = ProfileFile | ReportFile;

export interface CaptureFiles {
  "heap.pb.gz": Buffer;
  "goroutine.pb.gz"?: Buffer;
  /** The profile from the start of the analysis window: `go tool pprof -base`. */
  "base-heap.pb.gz"?: Buffer;
  "report.txt": string;
  "report.json": string;
}

export interface CaptureMeta {
  leakWatch: { name: string; uid: string };
  /** The LeakWatch's namespace (and the pod's): captures are stored there and nowhere else. */
  namespace: string;
  pod: string;
  container?: string;
  workload?: { kind: string; name: string };
  /** RFC 3339. */
  createdAt: string;
  headline: string;
  reason: string;
}

/** A file left out, or cut, to keep the capture within captures.maxBytes. */
export interface Omission {
  file: CaptureFileName;
  bytes: number;
  action: "dropped" | "truncated";
}

export interface StoredCaptureMeta extends CaptureMeta {
  maxBytes: number;
  omitted: Omission[];
}

export interface ManifestFile {
  name: CaptureFileName;
  bytes: number;
  sha256: string;
  /** Its bytes are the chunks `<name>.0`, `<name>.1`, … in the parts' binaryData. */
  chunks: number;
}

export interface ManifestPart {
  name: string;
  bytes: number;
  /** Over the part's chunks, concatenated in `keys` order. */
  sha256: string;
  keys: string[];
}

export interface Manifest {
  version: 1;
  name: string;
  meta: StoredCaptureMeta;
  totalBytes: number;
  files: ManifestFile[];
  parts: ManifestPart[];
}

export interface PlannedPart extends ManifestPart {
  data: Map<string, Buffer>;
}

export interface CapturePlan {
  manifest: Manifest;
  parts: PlannedPart[];
}

/**
 * Binary bytes per part ConfigMap. 512 KiB is 683 KiB once base64'd in the request: half the
 * API's 1 MiB ConfigMap limit, a third of etcd's 1.5 MiB request limit.
 */
export const PART_MAX_BYTES = 512 * 1024;
/** The CRD's upper bound for captures.maxBytes. */
export const CAPTURE_HARD_MAX_BYTES = 64 * 1024 * 1024;

const FILE_ORDER: readonly CaptureFileName[] = [
  "heap.pb.gz",
  "goroutine.pb.gz",
  "base-heap.pb.gz",
  "report.txt",
  "report.json",
];
/** What goes first when a capture is over its limit; then report.txt is cut. */
const DROP_ORDER: readonly CaptureFileName[] = ["base-heap.pb.gz", "goroutine.pb.gz", "report.json"];
const TRUNCATED_MARK = "\n… [cut to fit captures.maxBytes]";

const NAME_MAX = 63;

/**
 * `lw-<leakwatch>-<pod>-<yyyymmddhhmmss>-<hash>`: a DNS label (≤ 63, so it is also a label value),
 * deterministic for a given capture (a retry finds the same name) and distinct for different
 * pods even when the names had to be shortened.
 */
export function captureName(leakWatch: string, pod: string, createdAt: string): string {
  const ms = Date.parse(createdAt);
  if (!Number.isFinite(ms)) throw new RangeError(`createdAt is not a time: ${JSON.stringify(createdAt)}`);
  const stamp = new Date(ms).toISOString().replace(/\D/g, "").slice(0, 14);
  const hash = shortHash(`${leakWatch}\n${pod}\n${new Date(ms).toISOString()}`, 5);
  const room = NAME_MAX - "lw-".length - stamp.length - hash.length - 3; // three dashes
  const lwMax = leakWatch.length + 1 + pod.length <= room ? leakWatch.length : Math.min(leakWatch.length, 12);
  const lwPart = dnsFragment(leakWatch, lwMax);
  const podPart = dnsFragment(pod, room - lwPart.length - 1);
  const who = [lwPart, podPart].filter((s) => s !== "").join("-");
  return who === "" ? `lw-${stamp}-${hash}` : `lw-${who}-${stamp}-${hash}`;
}

/**
 * Applies captures.maxBytes: drops the base profile, then the goroutine profile, then
 * report.json, then cuts report.txt — each recorded. Refuses when the heap profile alone is over.
 */
export function fitToLimit(
  name: string,
  files: CaptureFiles,
  maxBytes: number,
): { kept: [CaptureFileName, Buffer][]; omitted: Omission[] } {
  const heap = files["heap.pb.gz"];
  if (heap.length > maxBytes) throw new CaptureTooLargeError(name, heap.length, maxBytes);
  const kept = new Map<CaptureFileName, Buffer>();
  for (const file of FILE_ORDER) {
    const value = files[file];
    if (value !== undefined) kept.set(file, typeof value === "string" ? Buffer.from(value, "utf8") : value);
  }
  const omitted: Omission[] = [];
  const total = (): number => [...kept.values()].reduce((sum, b) => sum + b.length, 0);
  for (const file of DROP_ORDER) {
    const bytes = kept.get(file);
    if (total() <= maxBytes) break;
    if (bytes === undefined) continue;
    kept.delete(file);
    omitted.push({ file, bytes: bytes.length, action: "dropped" });
  }
  const over = total() - maxBytes;
  const report = kept.get("report.txt");
  if (over > 0 && report !== undefined) {
    const room = Math.max(0, report.length - over);
    kept.set("report.txt", Buffer.from(truncateUtf8(report.toString("utf8"), room, TRUNCATED_MARK), "utf8"));
    omitted.push({ file: "report.txt", bytes: report.length, action: "truncated" });
  }
  return { kept: [...kept.entries()], omitted };
}

/** Cuts the kept files into parts of at most `partMax` bytes, filled in file order. */
export function planCapture(
  name: string,
  files: CaptureFiles,
  meta: CaptureMeta,
  maxBytes: number,
  partMax = PART_MAX_BYTES,
): CapturePlan {
  const { kept, omitted } = fitToLimit(name, files, maxBytes);
  const parts: { data: Map<string, Buffer>; bytes: number }[] = [];
  const manifestFiles: ManifestFile[] = [];
  for (const [file, bytes] of kept) {
    let offset = 0;
    let chunk = 0;
    while (offset < bytes.length) {
      let part = parts.at(-1);
      if (part === undefined || part.bytes >= partMax) {
        part = { data: new Map(), bytes: 0 };
        parts.push(part);
      }
      const take = Math.min(partMax - part.bytes, bytes.length - offset);
      part.data.set(`${file}.${chunk}`, bytes.subarray(offset, offset + take));
      part.bytes += take;
      offset += take;
      chunk++;
    }
    manifestFiles.push({ name: file, bytes: bytes.length, sha256: sha256(bytes), chunks: chunk });
  }
  const planned: PlannedPart[] = parts.map((p, i) => {
    const keys = [...p.data.keys()];
    return {
      name: partName(name, i),
      bytes: p.bytes,
      sha256: sha256(...p.data.values()),
      keys,
      data: p.data,
    };
  });
  const manifest: Manifest = {
    version: 1,
    name,
    meta: { ...meta, maxBytes, omitted },
    totalBytes: manifestFiles.reduce((sum, f) => sum + f.bytes, 0),
    files: manifestFiles,
    parts: planned.map(({ name: partName, bytes, sha256: hash, keys }) => ({
      name: partName,
      bytes,
      sha256: hash,
      keys,
    })),
  };
  return { manifest, parts: planned };
}

export function partName(capture: string, index: number): string {
  return `${capture}-p${index}`;
}

/** Same files, same bytes: a retried save of this capture, not a different one. */
export function sameContent(a: Manifest, b: Manifest): boolean {
  const digest = (m: Manifest): string => JSON.stringify(m.files.map((f) => [f.name, f.bytes, f.sha256]));
  return digest(a) === digest(b);
}

/**
 * Reassembles the files from their parts' chunks, checking every part and file against the
 * manifest's sizes and hashes.
 */
export function assembleFiles(
  manifest: Manifest,
  parts: ReadonlyMap<string, Map<string, Buffer>>,
): CaptureFiles {
  const chunks = new Map<string, Buffer>();
  for (const part of manifest.parts) {
    const data = parts.get(part.name);
    if (data === undefined) throw new CaptureCorruptError(manifest.name, `part ${part.name} was not read`);
    const ordered = part.keys.map((key) => {
      const bytes = data.get(key);
      if (bytes === undefined) throw new CaptureCorruptError(manifest.name, `part ${part.name} lacks ${key}`);
      chunks.set(key, bytes);
      return bytes;
    });
    const size = ordered.reduce((sum, b) => sum + b.length, 0);
    if (size !== part.bytes || sha256(...ordered) !== part.sha256) {
      throw new CaptureCorruptError(manifest.name, `part ${part.name} does not match its size or sha256`);
    }
  }
  const out = new Map<CaptureFileName, Buffer>();
  for (const file of manifest.files) {
    const pieces = Array.from({ length: file.chunks }, (_, i) => chunks.get(`${file.name}.${i}`));
    const present = pieces.filter((p): p is Buffer => p !== undefined);
    const bytes = Buffer.concat(present);
    if (present.length !== pieces.length || bytes.length !== file.bytes || sha256(bytes) !== file.sha256) {
      throw new CaptureCorruptError(manifest.name, `${file.name} does not match its size or sha256`);
    }
    out.set(file.name, bytes);
  }
  const heap = out.get("heap.pb.gz");
  if (heap === undefined) throw new CaptureCorruptError(manifest.name, "the capture has no heap.pb.gz");
  const files: CaptureFiles = {
    "heap.pb.gz": heap,
    "report.txt": out.get("report.txt")?.toString("utf8") ?? "",
    "report.json": out.get("report.json")?.toString("utf8") ?? "",
  };
  const goroutine = out.get("goroutine.pb.gz");
  const base = out.get("base-heap.pb.gz");
  if (goroutine !== undefined) files["goroutine.pb.gz"] = goroutine;
  if (base !== undefined) files["base-heap.pb.gz"] = base;
  return files;
}

/** Reads a manifest's JSON, checking the shape this module writes. */
export function parseManifest(capture: string, text: string | undefined): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text ?? "");
  } catch (err) {
    throw new CaptureCorruptError(capture, `capture ${capture}: the manifest is not JSON`, { cause: err });
  }
  if (!isManifest(value))
    throw new CaptureCorruptError(capture, `capture ${capture}: the manifest is malformed`);
  return value;
}

function isManifest(v: unknown): v is Manifest {
  if (!isObject(v) || v.version !== 1 || typeof v.name !== "string" || typeof v.totalBytes !== "number") {
    return false;
  }
  const meta = v.meta;
  if (!isObject(meta) || !isObject(meta.leakWatch) || typeof meta.pod !== "string") return false;
  if (typeof meta.createdAt !== "string" || !Array.isArray(meta.omitted)) return false;
  const files = v.files;
  const parts = v.parts;
  return (
    Array.isArray(files) &&
    files.every(
      (f) =>
        isObject(f) &&
        FILE_ORDER.includes(f.name as CaptureFileName) &&
        typeof f.bytes === "number" &&
        typeof f.sha256 === "string" &&
        typeof f.chunks === "number",
    ) &&
    Array.isArray(parts) &&
    parts.every(
      (p) =>
        isObject(p) &&
        typeof p.name === "string" &&
        typeof p.bytes === "number" &&
        typeof p.sha256 === "string" &&
        Array.isArray(p.keys) &&
        p.keys.every((k) => typeof k === "string"),
    )
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function sha256(...buffers: Buffer[]): string {
  const hash = createHash("sha256");
  for (const b of buffers) hash.update(b);
  return hash.digest("hex");
}
