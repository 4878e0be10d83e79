// The decoded form of a profile.proto message: flat typed arrays, strings resolved on demand.
// Indexes here are positions in these tables, never the ids of the wire format.
import { ProfileReferenceError } from "./errors.ts";

export interface SampleType {
  readonly type: string;
  readonly unit: string;
}

/** How much of each sample's stack was decoded. */
export type StackDepth = "full" | "leaf";

/** Table position meaning "none" (a line without a function). */
export const NONE = 0xffffffff;

export interface LocationTable {
  readonly count: number;
  /** The 64-bit address as two words, so unsymbolized frames are named exactly. */
  readonly addressHi: Uint32Array;
  readonly addressLo: Uint32Array;
  /** Location i's lines are [lineOffsets[i], lineOffsets[i+1]); the first is the innermost (inlined) frame. */
  readonly lineOffsets: Uint32Array;
  /** Function table position of each line, or NONE. */
  readonly lineFunction: Uint32Array;
  readonly lineNumber: Float64Array;
}

export interface FunctionTable {
  readonly count: number;
  /** String table positions. */
  readonly name: Uint32Array;
  readonly file: Uint32Array;
}

/** Sample labels; only decoded with stacks: "full". */
export interface LabelTable {
  /** Sample i's labels are [offsets[i], offsets[i+1]). */
  readonly offsets: Uint32Array;
  readonly key: Uint32Array;
  readonly str: Uint32Array;
  readonly num: Float64Array;
  readonly unit: Uint32Array;
}

export interface Profile {
  readonly sampleTypes: readonly SampleType[];
  /** The producer's preferred sample type name, or "". */
  readonly defaultSampleType: string;
  readonly periodType: SampleType | undefined;
  readonly period: number;
  readonly timeNanos: number;
  readonly durationNanos: number;
  readonly stacks: StackDepth;
  readonly sampleCount: number;
  /** sampleCount rows of sampleTypes.length values each. */
  readonly values: Float64Array;
  /** Sample i's stack is stackLocations[stackOffsets[i] … stackOffsets[i+1]), leaf first. */
  readonly stackOffsets: Uint32Array;
  readonly stackLocations: Uint32Array;
  readonly labels: LabelTable | undefined;
  readonly locations: LocationTable;
  readonly functions: FunctionTable;
  readonly strings: StringTable;
  /** Some value was beyond ±2^53 and is the nearest double, not exact. */
  readonly inexactValues: boolean;
}

/** The profile's string table, decoded one string at a time when first asked for. */
export class StringTable {
  readonly count: number;
  private readonly buf: Buffer;
  private readonly ranges: Uint32Array;
  private readonly cache: (string | undefined)[];

  /** ranges holds (start, end) byte offsets into buf for each string. */
  constructor(buf: Buffer, ranges: Uint32Array) {
    this.buf = buf;
    this.ranges = ranges;
    this.count = ranges.length / 2;
    this.cache = new Array<string | undefined>(this.count);
  }

  get(index: number): string {
    const cached = this.cache[index];
    if (cached !== undefined) return cached;
    if (!(index >= 0 && index < this.count)) throw new ProfileReferenceError("string", index);
    const s = this.buf.toString("utf8", this.ranges[2 * index], this.ranges[2 * index + 1]);
    this.cache[index] = s;
    return s;
  }
}
