// A purpose-built profile.proto decoder: one pass over the message into typed arrays, then
// ids resolved to table positions. Reads only what the summaries need (no mappings, no
// comments) and, with stacks: "leaf", only the first location of each sample.
import { readGoFunction, readGoLeafSample, readGoLocation } from "./decode-go.ts";
import { MalformedProfileError, ProfileReferenceError } from "./errors.ts";
import { IdIndex, NO_INDEX } from "./ids.ts";
import type { LabelTable, LocationTable, Profile, SampleType, StackDepth } from "./profile.ts";
import { NONE, StringTable } from "./profile.ts";
import { ProtoReader, WIRE_LEN, WIRE_VARINT } from "./proto.ts";
import { Scan, type Counts } from "./scan.ts";
import { TableBudget } from "./table-budget.ts";

export interface DecodeOptions {
  /** "leaf" skips all but the first frame of each sample: enough for heap summaries. */
  readonly stacks?: StackDepth;
  /**
   * Charged for every table the decode allocates; refuses (TablesTooLargeError) past its limit.
   * Default: a new TableBudget for the message (a fixed multiple of its size).
   */
  readonly tables?: TableBudget;
}

// profile.proto field numbers of Profile.
const F_SAMPLE_TYPE = 1;
const F_SAMPLE = 2;
const F_LOCATION = 4;
const F_FUNCTION = 5;
const F_STRING = 6;
const F_TIME = 9;
const F_DURATION = 10;
const F_PERIOD_TYPE = 11;
const F_PERIOD = 12;
const F_DEFAULT_SAMPLE_TYPE = 14;

const TAG_SAMPLE = (F_SAMPLE << 3) | WIRE_LEN;
const TAG_LOCATION = (F_LOCATION << 3) | WIRE_LEN;
const TAG_FUNCTION = (F_FUNCTION << 3) | WIRE_LEN;
const TAG_STRING = (F_STRING << 3) | WIRE_LEN;

// Tags (field << 3 | wire) of Sample's fields, both packed and unpacked encodings.
const TAG_LOCATION_PACKED = (1 << 3) | WIRE_LEN;
const TAG_LOCATION_ONE = (1 << 3) | WIRE_VARINT;
const TAG_VALUE_PACKED = (2 << 3) | WIRE_LEN;
const TAG_VALUE_ONE = (2 << 3) | WIRE_VARINT;
const TAG_LABEL = (3 << 3) | WIRE_LEN;

// Tags of Location's and Line's fields.
const TAG_LOCATION_ID = (1 << 3) | WIRE_VARINT;
const TAG_LOCATION_MAPPING = (2 << 3) | WIRE_VARINT;
const TAG_LOCATION_ADDRESS = (3 << 3) | WIRE_VARINT;
const TAG_LOCATION_LINE = (4 << 3) | WIRE_LEN;
const TAG_LOCATION_IS_FOLDED = (5 << 3) | WIRE_VARINT;
const TAG_LINE_FUNCTION = (1 << 3) | WIRE_VARINT;
const TAG_LINE_NUMBER = (2 << 3) | WIRE_VARINT;
// Tags of Function's fields.
const TAG_FUNCTION_ID = (1 << 3) | WIRE_VARINT;
const TAG_FUNCTION_NAME = (2 << 3) | WIRE_VARINT;
const TAG_FUNCTION_SYSTEM_NAME = (3 << 3) | WIRE_VARINT;
const TAG_FUNCTION_FILE = (4 << 3) | WIRE_VARINT;
const TAG_FUNCTION_START_LINE = (5 << 3) | WIRE_VARINT;

/** Decodes an (already inflated) profile.proto message. Throws ProfileError subclasses only. */
export function decodeProfile(message: Uint8Array, options: DecodeOptions = {}): Profile {
  const buf = Buffer.isBuffer(message)
    ? message
    : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (buf.length > 0xfffffff0) throw new MalformedProfileError("message larger than 4 GiB");
  const stacks = options.stacks ?? "full";
  const tables = options.tables ?? new TableBudget(buf.length);
  const leafOnly = stacks === "leaf";
  const scan = new Scan(leafOnly, countFields(buf), buf.length, tables);
  const r = new ProtoReader(buf);
  const end = buf.length;
  let pos = 0;
  // Samples, locations, functions and strings are nearly all of the message: their one-byte
  // tags and (nearly always) one- or two-byte lengths skip the generic field dispatch.
  while (pos < end) {
    const tag = buf[pos] ?? 0;
    const b0 = pos + 1 < end ? (buf[pos + 1] ?? 0) : 0x80;
    const b1 = pos + 2 < end ? (buf[pos + 2] ?? 0) : 0x80;
    const at = b0 < 0x80 ? pos + 2 : pos + 3;
    const length = b0 < 0x80 ? b0 : b1 < 0x80 ? (b0 & 0x7f) | (b1 << 7) : -1;
    const fieldEnd = at + length;
    if (length < 0 || fieldEnd > end) {
      r.pos = pos;
      r.end = end;
      readProfileField(r, scan);
      pos = r.pos;
    } else if (tag === TAG_SAMPLE) {
      if (!leafOnly || !readGoLeafSample(buf, at, fieldEnd, scan)) {
        r.pos = at;
        readSample(r, scan, fieldEnd);
      }
      pos = fieldEnd;
    } else if (tag === TAG_LOCATION) {
      if (!readGoLocation(buf, at, fieldEnd, scan)) {
        r.pos = at;
        r.end = fieldEnd;
        readLocation(r, scan);
      }
      pos = fieldEnd;
    } else if (tag === TAG_FUNCTION) {
      if (!readGoFunction(buf, at, fieldEnd, scan)) {
        r.pos = at;
        r.end = fieldEnd;
        readFunction(r, scan);
      }
      pos = fieldEnd;
    } else if (tag === TAG_STRING) {
      addString(scan, at, fieldEnd);
      pos = fieldEnd;
    } else {
      r.pos = pos;
      r.end = end;
      readProfileField(r, scan);
      pos = r.pos;
    }
  }
  return assemble(buf, scan, stacks);
}

/** A first, cheap pass: counts the top-level fields (skipping their contents). */
function countFields(buf: Buffer): Counts {
  const counts: Counts = {
    samples: 0,
    sampleTypes: 0,
    locations: 0,
    locationBytes: 0,
    functions: 0,
    functionBytes: 0,
    strings: 0,
  };
  const r = new ProtoReader(buf);
  const end = buf.length;
  let pos = 0;
  while (pos < end) {
    // The four fields nearly all of the message is made of, their lengths of one or two bytes.
    const tag = buf[pos] ?? 0;
    const b0 = pos + 1 < end ? (buf[pos + 1] ?? 0) : 0x80;
    const b1 = pos + 2 < end ? (buf[pos + 2] ?? 0) : 0x80;
    const at = b0 < 0x80 ? pos + 2 : pos + 3;
    const length = b0 < 0x80 ? b0 : b1 < 0x80 ? (b0 & 0x7f) | (b1 << 7) : -1;
    if (length >= 0 && at + length <= end) {
      if (tag === TAG_SAMPLE) {
        counts.samples++;
        pos = at + length;
        continue;
      } else if (tag === TAG_STRING) {
        counts.strings++;
        pos = at + length;
        continue;
      } else if (tag === TAG_LOCATION) {
        counts.locations++;
        counts.locationBytes += length;
        pos = at + length;
        continue;
      } else if (tag === TAG_FUNCTION) {
        counts.functions++;
        counts.functionBytes += length;
        pos = at + length;
        continue;
      }
    }
    r.pos = pos;
    countField(r, counts);
    pos = r.pos;
  }
  return counts;
}

/** Counts one top-level field of any kind, and moves past it. */
function countField(r: ProtoReader, counts: Counts): void {
  const tag = r.tag();
  const field = tag >>> 3;
  if ((field === F_LOCATION || field === F_FUNCTION) && (tag & 7) === WIRE_LEN) {
    const end = r.delimitedEnd();
    if (field === F_LOCATION) {
      counts.locations++;
      counts.locationBytes += end - r.pos;
    } else {
      counts.functions++;
      counts.functionBytes += end - r.pos;
    }
    r.pos = end;
    return;
  }
  if (field === F_SAMPLE) counts.samples++;
  else if (field === F_SAMPLE_TYPE) counts.sampleTypes++;
  else if (field === F_STRING) counts.strings++;
  else if (field === F_LOCATION) counts.locations++;
  else if (field === F_FUNCTION) counts.functions++;
  r.skip(tag & 7);
}

function readProfileField(r: ProtoReader, s: Scan): void {
  const tag = r.tag();
  const field = tag >>> 3;
  const wire = tag & 7;
  switch (field) {
    case F_SAMPLE: {
      r.expect(wire, WIRE_LEN, field);
      const end = r.delimitedEnd();
      const outer = r.end;
      readSample(r, s, end);
      r.end = outer;
      return;
    }
    case F_LOCATION:
      r.expect(wire, WIRE_LEN, field);
      {
        const end = r.delimitedEnd();
        const outer = r.end;
        r.end = end;
        readLocation(r, s);
        r.end = outer;
      }
      return;
    case F_FUNCTION:
      r.expect(wire, WIRE_LEN, field);
      {
        const end = r.delimitedEnd();
        const outer = r.end;
        r.end = end;
        readFunction(r, s);
        r.end = outer;
      }
      return;
    case F_STRING: {
      r.expect(wire, WIRE_LEN, field);
      const end = r.delimitedEnd();
      addString(s, r.pos, end);
      r.pos = end;
      return;
    }
    case F_SAMPLE_TYPE:
      r.expect(wire, WIRE_LEN, field);
      s.sampleTypes.push(withinDelimited(r, readValueType, undefined));
      return;
    case F_PERIOD_TYPE:
      r.expect(wire, WIRE_LEN, field);
      s.periodType = withinDelimited(r, readValueType, undefined);
      return;
    case F_TIME:
      r.expect(wire, WIRE_VARINT, field);
      s.timeNanos = r.int64();
      return;
    case F_DURATION:
      r.expect(wire, WIRE_VARINT, field);
      s.durationNanos = r.int64();
      return;
    case F_PERIOD:
      r.expect(wire, WIRE_VARINT, field);
      s.period = r.int64();
      return;
    case F_DEFAULT_SAMPLE_TYPE:
      r.expect(wire, WIRE_VARINT, field);
      s.defaultSampleType = stringIndex(r);
      return;
    default:
      r.skip(wire); // mappings, comments, drop/keep frames, doc_url, unknown fields
  }
}

/**
 * Runs read(r, arg) with the reader confined to the next length-delimited field. Takes a plain
 * function and its argument, not a closure: a closure over the caller's parameters makes V8
 * allocate a context on every call of the caller (measured: 114 KiB per 40 KiB profile).
 */
function withinDelimited<A, T>(r: ProtoReader, read: (r: ProtoReader, arg: A) => T, arg: A): T {
  const end = r.delimitedEnd();
  const outer = r.end;
  r.end = end;
  const result = read(r, arg);
  r.end = outer;
  return result;
}

/** A string table index: an int64 on the wire, kept in a Uint32Array here. */
function stringIndex(r: ProtoReader): number {
  const start = r.pos;
  const v = r.int64();
  if (v < 0 || v > 0xfffffffe) throw new ProfileReferenceError("string", v);
  if (!Number.isInteger(v)) throw new MalformedProfileError("bad string index", start);
  return v;
}

function readValueType(r: ProtoReader): [number, number] {
  let type = 0;
  let unit = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | WIRE_VARINT)) type = stringIndex(r);
    else if (tag === ((2 << 3) | WIRE_VARINT)) unit = stringIndex(r);
    else skipOther(r, tag, 2);
  }
  return [type, unit];
}

/** Skips an unknown field; a known field number with the wrong wire type is malformed. */
function skipOther(r: ProtoReader, tag: number, knownFields: number): void {
  if (tag >>> 3 <= knownFields) {
    throw new MalformedProfileError(`field ${tag >>> 3} has unexpected wire type ${tag & 7}`, r.pos);
  }
  r.skip(tag & 7);
}

/**
 * The hot loop: one call per sample. Varints of one or two bytes (nearly all of them) are
 * read inline; longer ones, and anything unusual, go through the reader.
 */
function readSample(r: ProtoReader, s: Scan, end: number): void {
  const buf = r.buf;
  const values = s.values;
  const stack = s.stack;
  const perSample = s.valuesPerSample;
  const valueStart = s.sampleCount * perSample;
  let valueAt = valueStart;
  const stackStart = stack.length;
  let pos = r.pos;
  while (pos < end) {
    const tag = buf[pos] ?? 0;
    if (tag === TAG_VALUE_PACKED || tag === TAG_LOCATION_PACKED) {
      const b0 = pos + 1 < end ? (buf[pos + 1] ?? 0) : 0x80;
      let fieldEnd: number;
      if (b0 < 0x80 && pos + 2 + b0 <= end) {
        pos += 2;
        fieldEnd = pos + b0;
      } else {
        r.pos = pos + 1;
        r.end = end;
        fieldEnd = r.delimitedEnd();
        pos = r.pos;
      }
      r.end = fieldEnd; // for the reader's calls below
      if (tag === TAG_VALUE_PACKED) {
        while (pos < fieldEnd) {
          if (valueAt - valueStart === perSample) throw valueCountError(s, perSample + 1);
          const b0 = buf[pos] ?? 0;
          if (b0 < 0x80) {
            values[valueAt++] = b0;
            pos++;
            continue;
          }
          const b1 = pos + 1 < fieldEnd ? (buf[pos + 1] ?? 0x80) : 0x80;
          if (b1 < 0x80) {
            values[valueAt++] = (b0 & 0x7f) | (b1 << 7);
            pos += 2;
            continue;
          }
          r.pos = pos;
          values[valueAt++] = longValue(r, s);
          pos = r.pos;
        }
      } else if (!s.leafOnly || stack.length === stackStart) {
        while (pos < fieldEnd) {
          const b0 = buf[pos] ?? 0;
          const b1 = pos + 1 < fieldEnd ? (buf[pos + 1] ?? 0x80) : 0x80;
          let id: number;
          if (b0 < 0x80) {
            id = b0;
            pos++;
          } else if (b1 < 0x80) {
            id = (b0 & 0x7f) | (b1 << 7);
            pos += 2;
          } else {
            r.pos = pos;
            id = s.ids.intern(r.varint());
            pos = r.pos;
          }
          stack.push(id);
          if (s.leafOnly) break; // the rest of the stack is not needed
        }
      }
      pos = fieldEnd;
      continue;
    }
    r.pos = pos;
    r.end = end;
    if (tag === TAG_LOCATION_ONE) {
      r.pos++;
      const id = s.ids.intern(r.varint());
      if (!s.leafOnly || stack.length === stackStart) stack.push(id);
    } else if (tag === TAG_VALUE_ONE) {
      r.pos++;
      if (valueAt - valueStart === perSample) throw valueCountError(s, perSample + 1);
      values[valueAt++] = longValue(r, s);
    } else if (tag === TAG_LABEL && !s.leafOnly) {
      r.pos++;
      withinDelimited(r, readLabel, s);
    } else if (tag === TAG_LABEL) {
      r.pos++;
      r.pos = r.delimitedEnd();
    } else {
      skipOther(r, r.tag(), 3);
    }
    pos = r.pos;
  }
  if (valueAt - valueStart !== perSample) throw valueCountError(s, valueAt - valueStart);
  r.pos = pos;
  s.sampleCount++;
  s.stackOffsets[s.sampleCount] = stack.length;
  if (!s.leafOnly) s.labelOffsets.push(s.labelKey.length);
}

const MAX_EXACT = 2 ** 53;

/** A sample value through the reader, noting when it is too large to be exact. */
function longValue(r: ProtoReader, s: Scan): number {
  const v = r.int64();
  if (v >= MAX_EXACT || v <= -MAX_EXACT) s.inexactValues = true;
  return v;
}

function valueCountError(s: Scan, got: number): MalformedProfileError {
  return new MalformedProfileError(
    `sample ${s.sampleCount} has ${got}${got > s.valuesPerSample ? " or more" : ""} values for ${s.valuesPerSample} sample types`,
  );
}

function readLabel(r: ProtoReader, s: Scan): void {
  let key = 0;
  let str = 0;
  let num = 0;
  let unit = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | WIRE_VARINT)) key = stringIndex(r);
    else if (tag === ((2 << 3) | WIRE_VARINT)) str = stringIndex(r);
    else if (tag === ((3 << 3) | WIRE_VARINT)) num = r.int64();
    else if (tag === ((4 << 3) | WIRE_VARINT)) unit = stringIndex(r);
    else skipOther(r, tag, 4);
  }
  s.labelKey.push(key);
  s.labelStr.push(str);
  s.labelNum.push(num);
  s.labelUnit.push(unit);
}

/** One location (r.end is its end), any layout; readGoLocation reads Go's. */
function readLocation(r: ProtoReader, s: Scan): void {
  let id = 0;
  let hi = 0;
  let lo = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === TAG_LOCATION_ID) {
      id = s.ids.intern(r.varint());
    } else if (tag === TAG_LOCATION_ADDRESS) {
      r.varintWords();
      hi = r.hi;
      lo = r.lo;
    } else if (tag === TAG_LOCATION_LINE) {
      withinDelimited(r, readLine, s);
    } else if (tag === TAG_LOCATION_MAPPING || tag === TAG_LOCATION_IS_FOLDED) {
      r.skip(WIRE_VARINT);
    } else {
      skipOther(r, tag, 5);
    }
  }
  const at = s.locationCount++;
  s.locationIds[at] = id;
  s.addressHi[at] = hi;
  s.addressLo[at] = lo;
  s.lineOffsets[at + 1] = s.lineFunction.length;
}

function readLine(r: ProtoReader, s: Scan): void {
  let fn = 0;
  let line = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === TAG_LINE_FUNCTION) fn = s.ids.intern(r.varint());
    else if (tag === TAG_LINE_NUMBER) line = r.int64();
    else skipOther(r, tag, 3);
  }
  s.lineFunction.push(fn); // an interned id until assemble() resolves it
  s.lineNumber.push(line);
}

/** One function (r.end is its end), any layout; readGoFunction reads Go's. */
function readFunction(r: ProtoReader, s: Scan): void {
  let id = 0;
  let name = 0;
  let file = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === TAG_FUNCTION_ID) id = s.ids.intern(r.varint());
    else if (tag === TAG_FUNCTION_NAME) name = stringIndex(r);
    else if (tag === TAG_FUNCTION_FILE) file = stringIndex(r);
    else if (tag === TAG_FUNCTION_SYSTEM_NAME || tag === TAG_FUNCTION_START_LINE) r.skip(WIRE_VARINT);
    else skipOther(r, tag, 5);
  }
  const at = s.functionCount++;
  s.functionIds[at] = id;
  s.functionName[at] = name;
  s.functionFile[at] = file;
}

function addString(s: Scan, start: number, end: number): void {
  const at = s.stringCount++;
  s.stringRanges[2 * at] = start;
  s.stringRanges[2 * at + 1] = end;
}

function assemble(buf: Buffer, s: Scan, stacks: StackDepth): Profile {
  const strings = new StringTable(buf, filled(s.stringRanges, 2 * s.stringCount));
  if (strings.count === 0 || strings.get(0) !== "") {
    throw new MalformedProfileError("the string table must start with an empty string");
  }
  const typeName = (i: number): string => strings.get(i);
  const sampleTypes: SampleType[] = s.sampleTypes.map(([t, u]) => ({ type: typeName(t), unit: typeName(u) }));
  const sampleCount = s.sampleCount;
  const functionIds = filled(s.functionIds, s.functionCount);
  const functionName = filled(s.functionName, s.functionCount);
  const functionFile = filled(s.functionFile, s.functionCount);
  checkStrings(functionName, strings.count);
  checkStrings(functionFile, strings.count);

  const lineFunction = s.lineFunction.view();
  resolveIds(lineFunction, new IdIndex(functionIds, "function", s.tables), "function", true);
  const stackLocations = s.stack.view();
  resolveIds(
    stackLocations,
    new IdIndex(filled(s.locationIds, s.locationCount), "location", s.tables),
    "location",
    false,
  );

  const locations: LocationTable = {
    count: s.locationCount,
    addressHi: filled(s.addressHi, s.locationCount),
    addressLo: filled(s.addressLo, s.locationCount),
    lineOffsets: filled(s.lineOffsets, s.locationCount + 1),
    lineFunction,
    lineNumber: s.lineNumber.view(),
  };
  let labels: LabelTable | undefined;
  if (stacks === "full") {
    labels = {
      offsets: s.labelOffsets.view(),
      key: s.labelKey.view(),
      str: s.labelStr.view(),
      num: s.labelNum.view(),
      unit: s.labelUnit.view(),
    };
    checkStrings(labels.key, strings.count);
    checkStrings(labels.str, strings.count);
    checkStrings(labels.unit, strings.count);
  }
  return {
    sampleTypes,
    defaultSampleType: typeName(s.defaultSampleType),
    periodType: s.periodType && { type: typeName(s.periodType[0]), unit: typeName(s.periodType[1]) },
    period: s.period,
    timeNanos: s.timeNanos,
    durationNanos: s.durationNanos,
    stacks,
    sampleCount,
    values: s.values,
    stackOffsets: s.stackOffsets,
    stackLocations,
    labels,
    locations,
    functions: { count: s.functionCount, name: functionName, file: functionFile },
    strings,
    inexactValues: s.inexactValues,
  };
}

/** The first n entries of a table sized from the counts (all of it, in a valid message). */
function filled(table: Uint32Array, n: number): Uint32Array {
  return n === table.length ? table : table.subarray(0, n);
}

function checkStrings(indexes: Uint32Array, count: number): void {
  for (const i of indexes) if (i >= count) throw new ProfileReferenceError("string", i);
}

/** Rewrites interned ids into table positions, in place. Id 0 means "none" where allowed. */
function resolveIds(
  refs: Uint32Array,
  index: IdIndex,
  what: "location" | "function",
  zeroIsNone: boolean,
): void {
  if (index.sequential) {
    // Ids 1…n (as Go writes them): position = id − 1, checked against n.
    const none = zeroIsNone ? 0 : -1;
    for (let i = 0; i < refs.length; i++) {
      const id = refs[i] ?? 0;
      if (id - 1 < index.count && id > 0) refs[i] = id - 1;
      else if (id === none) refs[i] = NONE;
      else throw new ProfileReferenceError(what, id);
    }
    return;
  }
  for (let i = 0; i < refs.length; i++) {
    const id = refs[i] ?? 0;
    if (id === 0 && zeroIsNone) {
      refs[i] = NONE;
      continue;
    }
    const at = index.get(id);
    if (at === NO_INDEX) throw new ProfileReferenceError(what, id);
    refs[i] = at;
  }
}
