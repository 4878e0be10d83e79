// How much a decode may allocate for its tables: a multiple of the message it decodes, so a
// hostile message (millions of empty locations, samples or strings, each a 2-byte field that
// would cost 16–40 bytes of table) is refused with a typed error before it is allocated.
import { TablesTooLargeError } from "./errors.ts";

/**
 * Table bytes a decode may ask for per byte of the (inflated) message. Measured on real Go heap
 * and goroutine profiles (test fixtures and the benchmark's, up to 2.4 MB): 0.8–1.6 with stacks
 * "leaf" (what a scrape decodes heap profiles with), 0.9–5.6 with "full" (deep heap stacks and
 * a label per sample). So this refuses only messages of fields that carry next to nothing.
 */
export const TABLE_BYTES_PER_MESSAGE_BYTE = 8;
/** Plus this much whatever the message: tiny profiles have fixed overheads (list minimums). */
export const TABLE_BYTES_FLOOR = 1 << 20;

/** The table bytes a decode of a message of this size may ask for. */
export function decodeTableLimit(messageBytes: number): number {
  return TABLE_BYTES_PER_MESSAGE_BYTE * messageBytes + TABLE_BYTES_FLOOR;
}

/**
 * The running total of table bytes one decode has asked for: the arena sized from the field
 * counts, then every growth of a list past its estimate and every id index. Bytes are charged
 * before they are allocated and never given back (a grown list's old array counts too), so
 * `used` bounds the decode's own allocations from above.
 */
export class TableBudget {
  used = 0;
  readonly limitBytes: number;
  readonly messageBytes: number;

  constructor(messageBytes: number, limitBytes = decodeTableLimit(messageBytes)) {
    this.messageBytes = messageBytes;
    this.limitBytes = limitBytes;
  }

  /** Throws TablesTooLargeError when `bytes` more would pass the limit. */
  charge(bytes: number): void {
    const used = this.used + bytes;
    if (used > this.limitBytes) overBudget(this, used);
    this.used = used;
  }
}

/** Out of line, so charge() stays small enough to inline. */
function overBudget(b: TableBudget, requested: number): never {
  throw new TablesTooLargeError(b.messageBytes, requested, b.limitBytes);
}
