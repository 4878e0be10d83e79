// What a decode has read so far: the tables of one profile.proto message, sized exactly from a first
// counting pass and filled as its fields arrive (decode.ts, and the fast paths of decode-go.ts).
import { MalformedProfileError } from "./errors.ts";
import { IdInterner } from "./ids.ts";
import { Arena, F64List, U32List } from "./proto.ts";
import type { TableBudget } from "./table-budget.ts";

/** How many of each top-level field the message holds: sizes the arrays exactly. */
export interface Counts {
  samples: number;
  sampleTypes: number;
  locations: number;
  /** Payload bytes of all locations: an id takes two at least, and so does each line. */
  locationBytes: number;
  functions: number;
  /** Payload bytes of all functions: an id takes two at least. */
  functionBytes: number;
  strings: number;
}

/** What a StringTable's cache of decoded strings costs per string, empty (one pointer). */
const STRING_CACHE_BYTES = 8;
/** What a sample type costs on the JS heap, about: its pair of indexes, then its named object. */
const SAMPLE_TYPE_BYTES = 96;

/** What the decode has read so far: the tables, filled as fields arrive. */
export class Scan {
  readonly leafOnly: boolean;
  readonly tables: TableBudget;
  readonly ids: IdInterner;
  readonly sampleTypes: [number, number][] = [];
  readonly valuesPerSample: number;
  periodType: [number, number] | undefined;
  period = 0;
  timeNanos = 0;
  durationNanos = 0;
  defaultSampleType = 0;
  /** A sample value was at least 2^53 in magnitude: it is the nearest double, maybe not exact. */
  inexactValues = false;
  // samples: values and offsets are sized exactly from the counts
  sampleCount = 0;
  readonly values: Float64Array;
  readonly stackOffsets: Uint32Array;
  readonly stack: U32List;
  readonly labelOffsets: U32List;
  readonly labelKey: U32List;
  readonly labelStr: U32List;
  readonly labelNum: F64List;
  readonly labelUnit: U32List;
  // Locations, functions and strings: sized exactly from the counts, so written by position
  // (measured: a list's push was an eighth of the decode).
  locationCount = 0;
  readonly locationIds: Uint32Array;
  readonly addressHi: Uint32Array;
  readonly addressLo: Uint32Array;
  /** Location i's lines are [lineOffsets[i], lineOffsets[i+1]). */
  readonly lineOffsets: Uint32Array;
  readonly lineFunction: U32List;
  readonly lineNumber: F64List;
  functionCount = 0;
  readonly functionIds: Uint32Array;
  readonly functionName: Uint32Array;
  readonly functionFile: Uint32Array;
  stringCount = 0;
  /** (start, end) in the message per string. */
  readonly stringRanges: Uint32Array;

  constructor(leafOnly: boolean, counts: Counts, messageBytes: number, tables: TableBudget) {
    this.leafOnly = leafOnly;
    this.tables = tables;
    this.ids = new IdInterner(tables);
    this.valuesPerSample = counts.sampleTypes;
    // Every value takes at least a byte of the message: more cannot be a valid profile,
    // and checking first keeps a hostile message from sizing a huge array.
    if (counts.samples * counts.sampleTypes > messageBytes) {
      throw new MalformedProfileError(
        `${counts.samples} samples of ${counts.sampleTypes} values cannot fit in ${messageBytes} bytes`,
      );
    }
    // Every location and function needs a non-zero id (two bytes at least) to be referred to, and
    // assemble() refuses one without: refused here instead, before their tables are sized.
    if (counts.locationBytes < counts.locations * 2 || counts.functionBytes < counts.functions * 2) {
      throw new MalformedProfileError("locations or functions without ids");
    }
    // Sizes are exact from the counts, except a stack's frames and a location's lines (estimates:
    // those lists grow past them if needed, charging the budget).
    const { samples, locations, functions } = counts;
    const values = samples * counts.sampleTypes;
    const stackFrames = leafOnly ? samples : Math.min(samples * 8, messageBytes >>> 2) + 16;
    const labelOffsets = leafOnly ? 1 : samples + 1;
    const lines = Math.min(locations * 2, counts.locationBytes >>> 1);
    const doubles = values + lines;
    const words =
      samples +
      1 +
      stackFrames +
      labelOffsets +
      locations * 4 +
      1 +
      lines +
      functions * 3 +
      counts.strings * 2;
    // Charged before allocating: a hostile count is refused here, not after a huge allocation.
    tables.charge(
      doubles * 8 + words * 4 + counts.strings * STRING_CACHE_BYTES + counts.sampleTypes * SAMPLE_TYPE_BYTES,
    );
    // Every array is written before it is read: values and offsets as samples arrive (a sample
    // of too few values is refused), the lists by push.
    const arena = new Arena(doubles, words, "uninitialized");
    this.values = arena.f64(values);
    this.lineNumber = new F64List(arena.f64(lines), tables);
    this.stackOffsets = arena.u32(samples + 1);
    this.stackOffsets[0] = 0;
    this.stack = new U32List(arena.u32(stackFrames), tables);
    this.labelOffsets = new U32List(arena.u32(labelOffsets), tables);
    this.labelOffsets.push(0);
    this.locationIds = arena.u32(locations);
    this.addressHi = arena.u32(locations);
    this.addressLo = arena.u32(locations);
    this.lineOffsets = arena.u32(locations + 1);
    this.lineOffsets[0] = 0;
    this.lineFunction = new U32List(arena.u32(lines), tables);
    this.functionIds = arena.u32(functions);
    this.functionName = arena.u32(functions);
    this.functionFile = arena.u32(functions);
    this.stringRanges = arena.u32(counts.strings * 2);
    // Labels are only read with full stacks; each list starts small and grows, charged.
    this.labelKey = new U32List(16, tables);
    this.labelStr = new U32List(16, tables);
    this.labelNum = new F64List(16, tables);
    this.labelUnit = new U32List(16, tables);
  }
}
