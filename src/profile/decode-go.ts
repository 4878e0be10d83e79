// Fast paths for the field layouts Go's runtime/pprof writes, read straight through. Each is
// small enough for V8 to inline into the decoder's loop (the general readers are not: measured,
// a call per sample, location and function was a tenth of a decode). Each returns false for
// anything else — a varint of three bytes or more, another field, a second line — and the general
// reader then reads the field from its start: nothing was counted or pushed (a sample's value
// slots may have been written, and are written again).
import type { Scan } from "./scan.ts";

const TAG_SAMPLE_LOCATIONS = 0x0a; // 1: packed location ids
const TAG_SAMPLE_VALUES = 0x12; // 2: packed values
const TAG_SAMPLE_LABEL = 0x1a; // 3
const TAG_ID = 0x08; // Location.id, Function.id
const TAG_LOCATION_MAPPING = 0x10;
const TAG_LOCATION_ADDRESS = 0x18;
const TAG_LOCATION_LINE = 0x22;
const TAG_LINE_FUNCTION = 0x08;
const TAG_LINE_NUMBER = 0x10;
const TAG_FUNCTION_NAME = 0x10;
const TAG_FUNCTION_SYSTEM_NAME = 0x18;
const TAG_FUNCTION_FILE = 0x20;
const TAG_FUNCTION_START_LINE = 0x28;

/**
 * A sample, stacks "leaf": its values packed, its location ids packed, then labels (Go's
 * "bytes", not read with stacks "leaf"); each field shorter than 128 bytes, each value of one or
 * two bytes.
 */
export function readGoLeafSample(buf: Uint8Array, pos: number, end: number, s: Scan): boolean {
  const valuesLength = buf[pos + 1] ?? 0x80;
  const valuesEnd = pos + 2 + valuesLength;
  const idsLength = buf[valuesEnd + 1] ?? 0x80;
  const idsEnd = valuesEnd + 2 + idsLength;
  if (buf[pos] !== TAG_SAMPLE_VALUES || buf[valuesEnd] !== TAG_SAMPLE_LOCATIONS) return false;
  if ((valuesLength | idsLength) >= 0x80 || idsEnd > end) return false;
  let labelAt = idsEnd;
  let labelLength = 0;
  while (labelAt < end && buf[labelAt] === TAG_SAMPLE_LABEL && labelLength < 0x80) {
    labelLength = buf[labelAt + 1] ?? 0x80;
    labelAt += 2 + labelLength;
  }
  const leaf = shortVarint(buf, valuesEnd + 2, idsEnd);
  if (labelAt !== end || labelLength >= 0x80 || leaf < 0) return false;
  const values = s.values;
  let at = s.sampleCount * s.valuesPerSample;
  const last = at + s.valuesPerSample;
  for (let p = pos + 2; p < valuesEnd; at++) {
    const v = shortVarint(buf, p, valuesEnd);
    if (v < 0 || at === last) return false;
    values[at] = v;
    p += varintLength(v);
  }
  if (at !== last) return false;
  s.stack.push(leaf);
  s.sampleCount++;
  s.stackOffsets[s.sampleCount] = s.stack.length;
  return true;
}

/**
 * A location of one line: id, address, line and mapping id, in any order; the address of up to
 * four bytes (28 bits), the rest of one or two.
 */
export function readGoLocation(buf: Uint8Array, pos: number, end: number, s: Scan): boolean {
  let id = 0;
  let address = 0;
  let line = NO_LINE;
  while (pos < end) {
    const tag = buf[pos] ?? 0;
    if (tag === TAG_LOCATION_ADDRESS) {
      address = shortAddress(buf, pos + 1, end);
      if (address < 0) return false;
      pos += 1 + varintLength(address);
      continue;
    }
    const v = shortVarint(buf, pos + 1, end);
    if (v < 0) return false;
    pos += 1 + varintLength(v);
    if (tag === TAG_ID) id = v;
    else if (tag === TAG_LOCATION_LINE && line === NO_LINE && pos + v <= end) {
      line = goLine(buf, pos, pos + v);
      if (line < 0) return false;
      pos += v;
    } else if (tag !== TAG_LOCATION_MAPPING) return false;
  }
  const at = s.locationCount++;
  s.locationIds[at] = id;
  s.addressHi[at] = 0;
  s.addressLo[at] = address;
  if (line !== NO_LINE) {
    s.lineFunction.push(Math.floor(line / LINE_LIMIT)); // an interned id until assemble() resolves it
    s.lineNumber.push(line % LINE_LIMIT);
  }
  s.lineOffsets[at + 1] = s.lineFunction.length;
  return true;
}

/** Function ids and line numbers of two bytes are below this. */
const LINE_LIMIT = 1 << 14;
const NO_LINE = -2;

/** A Line message of buf[pos, end) as function id × LINE_LIMIT + line number, or -1. */
function goLine(buf: Uint8Array, pos: number, end: number): number {
  let fn = 0;
  let line = 0;
  while (pos < end) {
    const tag = buf[pos] ?? 0;
    const v = shortVarint(buf, pos + 1, end);
    if (v < 0) return -1;
    if (tag === TAG_LINE_FUNCTION) fn = v;
    else if (tag === TAG_LINE_NUMBER) line = v;
    else return -1;
    pos += 1 + varintLength(v);
  }
  return fn * LINE_LIMIT + line;
}

/**
 * The varint at buf[pos] if it takes one or two bytes, else -1. A two-byte encoding of a value
 * below 128 is refused, so the length follows from the value (varintLength).
 */
function shortVarint(buf: Uint8Array, pos: number, end: number): number {
  const b0 = pos < end ? (buf[pos] ?? 0x80) : 0x80;
  const b1 = pos + 1 < end ? (buf[pos + 1] ?? 0x80) : 0x80;
  if (b0 < 0x80) return b0;
  return b1 < 0x80 && b1 !== 0 ? (b0 & 0x7f) | (b1 << 7) : -1;
}

/** An address varint of up to four bytes (28 bits; as the length follows from the value), else -1. */
function shortAddress(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  for (let i = 0; i < 4 && pos + i < end; i++) {
    const b = buf[pos + i] ?? 0;
    value |= (b & 0x7f) << (7 * i);
    if (b < 0x80) return b === 0 && i > 0 ? -1 : value;
  }
  return -1;
}

/** Bytes of a varint of this value (below 2^28). */
function varintLength(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

/** A function: id, name, system name, file and start line, in any order, each of one or two bytes. */
export function readGoFunction(buf: Uint8Array, pos: number, end: number, s: Scan): boolean {
  let id = 0;
  let name = 0;
  let file = 0;
  while (pos < end) {
    const tag = buf[pos] ?? 0;
    const b0 = pos + 1 < end ? (buf[pos + 1] ?? 0x80) : 0x80;
    const b1 = pos + 2 < end ? (buf[pos + 2] ?? 0x80) : 0x80;
    if (b0 >= 0x80 && b1 >= 0x80) return false;
    const v = b0 < 0x80 ? b0 : (b0 & 0x7f) | (b1 << 7);
    pos += b0 < 0x80 ? 2 : 3;
    if (tag === TAG_ID) id = v;
    else if (tag === TAG_FUNCTION_NAME) name = v;
    else if (tag === TAG_FUNCTION_FILE) file = v;
    else if (tag !== TAG_FUNCTION_SYSTEM_NAME && tag !== TAG_FUNCTION_START_LINE) return false;
  }
  const at = s.functionCount++;
  s.functionIds[at] = id;
  s.functionName[at] = name;
  s.functionFile[at] = file;
  return true;
}
