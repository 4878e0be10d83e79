// The code paths the benchmark times, each from the gzipped bytes a scrape receives.
import zlib from "node:zlib";
import { decodeProfileBytes, summarizeHeap, topTable } from "../../src/profile/index.ts";
import { peerSummarize } from "./peer.ts";

export const PATHS = {
  /** The floor: inflating the bytes and nothing else. */
  gunzip: (gz: Uint8Array): unknown => zlib.gunzipSync(gz),
  /** What the controller does per scrape: bounded gunzip, leaf-only decode, heap summary. */
  ours: (gz: Uint8Array): unknown => summarizeHeap(decodeProfileBytes(gz, { stacks: "leaf" })),
  /** What `leakwatch top` does: full stacks, flat and cum per function. */
  oursTop: (gz: Uint8Array): unknown => topTable(decodeProfileBytes(gz, { stacks: "full" })),
  /** pprof-format's full decode + the same aggregation. */
  peer: (gz: Uint8Array): unknown => peerSummarize(gz),
} as const;

export type PathName = keyof typeof PATHS;

export function isPathName(s: string): s is PathName {
  return s in PATHS;
}
