// The budget of inflated bytes shared by concurrent scrapes: pure accounting, then wired into
// gunzipStream and fetchProfile.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIMITS,
  decodeProfileStream,
  FetchTimeoutError,
  fetchProfile,
  gunzipStream,
  InflightBudget,
  InflightBudgetError,
} from "../../../src/profile/index.ts";
import { FIXTURES } from "./helpers/go.ts";

const goHeap = readFileSync(path.join(FIXTURES, "go-heap.pb.gz"));

/** Lets pending promise callbacks run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function settled(p: Promise<unknown>): { done: boolean; error: unknown } {
  const state = { done: false, error: undefined as unknown };
  p.then(
    () => {
      state.done = true;
    },
    (err: unknown) => {
      state.done = true;
      state.error = err;
    },
  );
  return state;
}

describe("InflightBudget", () => {
  it("grants what fits at once and gives it all back on release", async () => {
    const budget = new InflightBudget(100);
    const a = budget.lease();
    await a.reserve(60);
    await a.reserve(30);
    expect(a.held).toBe(90);
    expect(budget.used).toBe(90);
    a.unreserve(20);
    expect(budget.used).toBe(70);
    a.release();
    expect(budget.used).toBe(0);
    expect(a.held).toBe(0);
  });

  it("makes a scrape wait while the budget is full, then grants in arrival order", async () => {
    const budget = new InflightBudget(100);
    const a = budget.lease();
    await a.reserve(80);
    const b = budget.lease();
    const c = budget.lease();
    const bWait = settled(b.reserve(50));
    const cWait = settled(c.reserve(10)); // would fit, but waits behind b
    await flush();
    expect([bWait.done, cWait.done]).toEqual([false, false]);
    expect(budget.waiting).toBe(2);
    a.release();
    await flush();
    expect([bWait.done, cWait.done]).toEqual([true, true]);
    expect(budget.used).toBe(60);
  });

  it("ends a wait when its signal fires, and says the scrape starved", async () => {
    const budget = new InflightBudget(100);
    await budget.lease().reserve(100);
    const b = budget.lease();
    const controller = new AbortController();
    const wait = settled(b.reserve(10, controller.signal));
    await flush();
    controller.abort(new DOMException("deadline", "TimeoutError"));
    await flush();
    expect(wait.error).toBeInstanceOf(DOMException);
    expect(b.starved).toBe(true);
    expect(budget.waiting).toBe(0);
    const err = b.starvedError(wait.error);
    expect(err).toBeInstanceOf(InflightBudgetError);
    expect(err.code).toBe("LW_PROFILE_INFLIGHT_BUDGET");
    expect(err.retryable).toBe(true);
  });

  it("breaks a deadlock of holders all waiting: the youngest gives way, the oldest finishes", async () => {
    const budget = new InflightBudget(100);
    const old = budget.lease();
    const young = budget.lease();
    await old.reserve(50);
    await young.reserve(50);
    const oldWait = settled(old.reserve(40));
    const youngWait = settled(young.reserve(40));
    await flush();
    expect(oldWait.done).toBe(false);
    expect(youngWait.error).toBeInstanceOf(InflightBudgetError);
    expect((youngWait.error as InflightBudgetError).heldBytes).toBe(50);
    young.release(); // as its scrape unwinds
    await flush();
    expect(oldWait.done).toBe(true);
    expect(old.held).toBe(90);
  });

  it("serves a scrape already holding bytes before a new one waiting ahead of it", async () => {
    const budget = new InflightBudget(100);
    const busy = budget.lease();
    await busy.reserve(50);
    const holder = budget.lease();
    await holder.reserve(40);
    const fresh = settled(budget.lease().reserve(60)); // cannot fit until the others are done
    const more = settled(holder.reserve(10)); // fits: not held up behind the new scrape
    await flush();
    expect(more.done).toBe(true);
    expect(more.error).toBeUndefined();
    expect(fresh.done).toBe(false);
    busy.release();
    holder.release();
    await flush();
    expect(fresh.done).toBe(true);
  });

  it("does not count a holder that is busy decoding as deadlocked", async () => {
    const budget = new InflightBudget(100);
    const busy = budget.lease();
    await busy.reserve(70);
    const waiting = budget.lease();
    await waiting.reserve(20);
    const wait = settled(waiting.reserve(20));
    await flush();
    expect(wait.done).toBe(false); // busy will release: no one is refused
    busy.release();
    await flush();
    expect(wait.done).toBe(true);
    expect(wait.error).toBeUndefined();
  });

  it("refuses at once what could never fit, and rejects a bad size", async () => {
    const budget = new InflightBudget(100);
    const a = budget.lease();
    await a.reserve(50);
    await expect(a.reserve(51)).rejects.toBeInstanceOf(InflightBudgetError);
    expect(() => new InflightBudget(0)).toThrow(RangeError);
    expect(() => new InflightBudget(1.5)).toThrow(RangeError);
  });
});

describe("inflating under a budget", () => {
  it("reserves the inflated bytes of a small body (inflated whole) and of a streamed one", async () => {
    for (const body of [goHeap, gzipSync(Buffer.alloc(4 << 20, 7))]) {
      const budget = new InflightBudget(8 << 20);
      const lease = budget.lease();
      const chunks = body.length > 65_536 ? chunked(body, 16_384) : [body];
      const out = await gunzipStream(Readable.from(chunks), DEFAULT_LIMITS, undefined, lease);
      expect(lease.held).toBe(out.decompressed.length);
      expect(budget.used).toBe(out.decompressed.length);
      lease.release();
    }
  });

  it("streams a small body that inflates past its trailer's claim, reserving as it goes", async () => {
    const body = Buffer.from(gzipSync(Buffer.alloc(1 << 20)));
    body.writeUInt32LE(100, body.length - 4); // the trailer claims 100 bytes
    const budget = new InflightBudget(4 << 20);
    const lease = budget.lease();
    // A wrong ISIZE is caught by zlib at the end of the stream: what matters is what was held.
    await gunzipStream(Readable.from([body]), DEFAULT_LIMITS, undefined, lease).catch(() => undefined);
    expect(lease.held).toBeLessThanOrEqual(budget.limitBytes);
    lease.release();
    expect(budget.used).toBe(0);
  });

  it("holds a second scrape back until the first is released, then decodes it", async () => {
    const big = gzipSync(Buffer.alloc(3 << 20));
    const budget = new InflightBudget((3 << 20) + 10_000); // go-heap inflates to 16 KiB
    const first = budget.lease();
    await gunzipStream(Readable.from(chunked(big, 8192)), DEFAULT_LIMITS, undefined, first);
    const second = budget.lease();
    const waiting = settled(decodeProfileStream(Readable.from([goHeap]), { allowance: second }));
    await flush();
    expect(waiting.done).toBe(false);
    first.release();
    for (let i = 0; i < 20 && !waiting.done; i++) await flush();
    expect(waiting.error).toBeUndefined();
    expect(waiting.done).toBe(true);
    second.release();
  });

  it("reports a fetch that timed out waiting for room as InflightBudgetError, not a bare timeout", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(goHeap);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debug/pprof/heap`;
    try {
      const budget = new InflightBudget(4 << 20);
      await budget.lease().reserve(4 << 20); // someone else holds it all
      const lease = budget.lease();
      const err = await fetchProfile(url, { timeoutMs: 300, allowance: lease }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InflightBudgetError);
      expect(err).not.toBeInstanceOf(FetchTimeoutError);
      expect(lease.held).toBe(0);
      // With room, the same fetch succeeds and holds what it inflated.
      const roomy = new InflightBudget(4 << 20).lease();
      const got = await fetchProfile(url, { timeoutMs: 5000, allowance: roomy });
      expect(roomy.held).toBe(got.decompressedBytes);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; at += size) out.push(buf.subarray(at, at + size));
  return out;
}
