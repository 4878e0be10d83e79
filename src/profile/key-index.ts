// Entries numbered 0, 1, … by a key of three numbers (two integers and a line number), in an
// open-addressing hash table over typed arrays. A Map keyed by a number that packs the parts boxes
// each key, and a Map per function cost more than the rest of a summary on small profiles.
import { Arena } from "./proto.ts";

export class KeyIndex {
  size = 0;
  /** Entry + 1 per slot; 0 is empty. */
  private readonly slots: Int32Array;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private readonly c: Float64Array;

  /**
   * capacity: how many distinct keys will be added, at most. arena: where to take the tables from
   * (zeroed, with room for doubles(capacity) and words(capacity)), so that a caller's own columns
   * and these are one allocation; by default, an arena of their own.
   */
  constructor(capacity: number, arena = new Arena(KeyIndex.doubles(capacity), KeyIndex.words(capacity))) {
    this.c = arena.f64(capacity);
    this.slots = arena.i32(slotCount(capacity));
    this.a = arena.i32(capacity);
    this.b = arena.i32(capacity);
  }

  /** Doubles a KeyIndex of this capacity takes from its arena. */
  static doubles(capacity: number): number {
    return capacity;
  }

  /** 32-bit words a KeyIndex of this capacity takes from its arena. */
  static words(capacity: number): number {
    return slotCount(capacity) + capacity * 2;
  }

  /** The entry of a key, or -1. */
  find(a: number, b: number, c: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let h = hash(a, b, c) & mask; ; h = (h + 1) & mask) {
      const entry = (slots[h] ?? 0) - 1;
      if (entry < 0 || (this.a[entry] === a && this.b[entry] === b && this.c[entry] === c)) return entry;
    }
  }

  /** The entry of a key; a new key gets the next number (so `size` grows). */
  add(a: number, b: number, c: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    let h = hash(a, b, c) & mask;
    for (; ; h = (h + 1) & mask) {
      const entry = (slots[h] ?? 0) - 1;
      if (entry < 0) break;
      if (this.a[entry] === a && this.b[entry] === b && this.c[entry] === c) return entry;
    }
    const entry = this.size++;
    if (entry >= this.a.length) overCapacity();
    slots[h] = entry + 1;
    this.a[entry] = a;
    this.b[entry] = b;
    this.c[entry] = c;
    return entry;
  }
}

/** Slots for `capacity` keys: a power of two, at most half full. */
function slotCount(capacity: number): number {
  let slots = 16;
  while (slots < capacity * 2) slots *= 2;
  return slots;
}

/** Out of line, so the hot path stays small enough to inline. */
function overCapacity(): never {
  throw new RangeError("KeyIndex: more keys than its capacity");
}

function hash(a: number, b: number, c: number): number {
  return Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b) ^ Math.imul(c | 0, 0xc2b2ae35);
}
