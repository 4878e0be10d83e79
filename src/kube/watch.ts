// Reading a watch stream: newline-delimited JSON events, each line bounded in size, each event
// checked for shape. Anything unreadable is a KubeWatchError (the informer answers with a new watch),
// and an ERROR event becomes the KubeApiError it describes (410 Expired means "list again").
import type { RawObject } from "./cache.ts";
import { KubeApiError, KubeWatchError } from "./errors.ts";

export const DEFAULT_MAX_EVENT_BYTES = 4 << 20;

export type WatchEvent =
  | { readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; readonly object: RawObject }
  | { readonly type: "ERROR"; readonly error: KubeApiError };

/** Splits a byte stream into lines, refusing any line longer than `maxLineBytes`. */
export class LineSplitter {
  private readonly maxLineBytes: number;
  private parts: Buffer[] = [];
  private size = 0;

  constructor(maxLineBytes: number) {
    this.maxLineBytes = maxLineBytes;
  }

  /** The complete lines this chunk ends (without the newline); the rest waits for the next chunk. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      this.checkSize(this.size + piece.length);
      lines.push(
        this.size === 0 ? piece.toString("utf8") : Buffer.concat([...this.parts, piece]).toString("utf8"),
      );
      this.parts = [];
      this.size = 0;
      start = newline + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.checkSize(this.size + rest.length);
      this.parts.push(rest);
      this.size += rest.length;
    }
    return lines;
  }

  /** Bytes of an unfinished line (non-zero at the end of a stream means it was cut mid-event). */
  get pendingBytes(): number {
    return this.size;
  }

  private checkSize(size: number): void {
    if (size > this.maxLineBytes) {
      this.parts = [];
      this.size = 0;
      throw new KubeWatchError("EventTooLarge", `watch event larger than ${this.maxLineBytes} bytes`);
    }
  }
}

const OBJECT_EVENTS = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);

interface StatusObject {
  code?: unknown;
  reason?: unknown;
  message?: unknown;
}

/** One watch line as an event; `path` names the watch in errors. Blank lines give undefined. */
export function parseWatchEvent(line: string, path: string): WatchEvent | undefined {
  if (line.trim() === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new KubeWatchError("Malformed", `watch ${path}: event is not JSON`, { cause: err });
  }
  if (!isRecord(parsed) || typeof parsed.type !== "string" || !isRecord(parsed.object)) {
    throw new KubeWatchError("Malformed", `watch ${path}: event has no type or object`);
  }
  const { type, object } = parsed;
  if (type === "ERROR") return { type, error: statusError(object, path) };
  if (!OBJECT_EVENTS.has(type))
    throw new KubeWatchError("Malformed", `watch ${path}: unknown event type ${type}`);
  if (!isRecord(object.metadata) || typeof object.metadata.resourceVersion !== "string") {
    throw new KubeWatchError("Malformed", `watch ${path}: ${type} event without metadata.resourceVersion`);
  }
  return { type: type as "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK", object };
}

function statusError(status: StatusObject, path: string): KubeApiError {
  return new KubeApiError({
    status: typeof status.code === "number" ? status.code : 500,
    reason: typeof status.reason === "string" ? status.reason : "Unknown",
    message: typeof status.message === "string" ? status.message : "watch ERROR event",
    method: "WATCH",
    path,
    body: status,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
