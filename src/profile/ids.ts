// Ids in profile.proto are arbitrary uint64s. Producers use small dense ones (Go: 1..N), so
// lookups go through a typed array when they can and a Map only when the ids are sparse.
import { MalformedProfileError } from "./errors.ts";
import type { TableBudget } from "./table-budget.ts";

const SMALL_ID_LIMIT = 0x7fffffff;
/** What a Map entry of two large numbers costs V8, about (entry, hash bucket, two HeapNumbers). */
const MAP_ENTRY_BYTES = 64;

/**
 * Maps ids to uint32 keys: small ids stay themselves; larger ones (up to 2^64, arriving as
 * doubles) get surrogates ≥ 2^31, so every table can store ids in a Uint32Array.
 */
export class IdInterner {
  private readonly large = new Map<number, number>();
  private readonly budget: TableBudget | undefined;
  constructor(budget?: TableBudget) {
    this.budget = budget;
  }
  intern(id: number): number {
    if (id <= SMALL_ID_LIMIT) return id;
    let key = this.large.get(id);
    if (key === undefined) {
      this.budget?.charge(MAP_ENTRY_BYTES);
      key = SMALL_ID_LIMIT + 1 + this.large.size;
      this.large.set(id, key);
    }
    return key;
  }
}

export const NO_INDEX = -1;

/** Interned id → position in its table. */
export class IdIndex {
  /** Ids are 1…n in table order (Go writes them so): position = id - 1, no table needed. */
  readonly sequential: boolean;
  readonly count: number;
  private readonly dense: Int32Array | undefined;
  private readonly sparse: Map<number, number> | undefined;

  constructor(ids: Uint32Array, what: string, budget?: TableBudget) {
    this.count = ids.length;
    let max = 0;
    let sequential = true;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] ?? 0;
      if (id > max) max = id;
      if (id !== i + 1) sequential = false;
    }
    this.sequential = sequential;
    if (sequential) return;
    if (max <= ids.length * 4 + 1024) {
      budget?.charge((max + 1) * 4);
      const dense = new Int32Array(max + 1).fill(NO_INDEX);
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] ?? 0;
        if (id === 0) throw new MalformedProfileError(`${what} with the reserved id 0`);
        if (dense[id] !== NO_INDEX) throw new MalformedProfileError(`duplicate ${what} id ${id}`);
        dense[id] = i;
      }
      this.dense = dense;
    } else {
      budget?.charge(ids.length * MAP_ENTRY_BYTES);
      const sparse = new Map<number, number>();
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] ?? 0;
        if (id === 0) throw new MalformedProfileError(`${what} with the reserved id 0`);
        if (sparse.has(id)) throw new MalformedProfileError(`duplicate ${what} id ${id}`);
        sparse.set(id, i);
      }
      this.sparse = sparse;
    }
  }

  /** The table position of an interned id, or NO_INDEX. */
  get(id: number): number {
    if (this.sequential) return id >= 1 && id <= this.count ? id - 1 : NO_INDEX;
    if (this.dense !== undefined) return this.dense[id] ?? NO_INDEX;
    return this.sparse?.get(id) ?? NO_INDEX;
  }
}
