// Mutated real profiles thrown at the decoder and everything downstream of it: the only
// acceptable outcomes are a result or a ProfileError. A fixed seed keeps CI deterministic.
import { readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { Profile as PprofFormat } from "pprof-format";
import { describe, expect, it } from "vitest";
import type { Profile } from "../../../src/profile/index.ts";
import {
  decodeProfile,
  decodeProfileBytes,
  diffHeap,
  ProfileError,
  renderTopText,
  summarizeGoroutines,
  summarizeHeap,
  topTable,
} from "../../../src/profile/index.ts";
import { FIXTURES } from "./helpers/go.ts";
import { varint } from "./helpers/proto-writer.ts";

const names = [
  "go-heap.pb.gz",
  "go-goroutine.pb.gz",
  "node-heap.pb.gz",
  "single-type.pb.gz",
  "unsymbolized.pb.gz",
];
const gzipped = names.map((n) => readFileSync(path.join(FIXTURES, n)));
const raw = gzipped.map((gz) => gunzipSync(gz));
const SEED = 20_260_101;

type Mutation =
  | { kind: "flip"; at: number; byte: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; length: number }
  | { kind: "varint"; at: number; value: bigint };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("flip"), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate"), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("insert"),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("delete"),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 64 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("varint"),
      at: fc.nat(),
      value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    }),
  },
);

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let buf = Buffer.from(input);
  for (const m of mutations) {
    const at = buf.length === 0 ? 0 : m.at % buf.length;
    switch (m.kind) {
      case "flip":
        if (buf.length > 0) buf[at] = m.byte;
        break;
      case "truncate":
        buf = buf.subarray(0, at);
        break;
      case "insert":
        buf = Buffer.concat([buf.subarray(0, at), m.bytes, buf.subarray(at)]);
        break;
      case "delete":
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.length)]);
        break;
      case "varint": {
        const v = Buffer.from(varint(m.value));
        buf = Buffer.concat([buf.subarray(0, at), v, buf.subarray(at + v.length)]);
        break;
      }
    }
  }
  return buf;
}

/** Everything a scrape or a report does with a decoded profile. */
function exercise(p: Profile): void {
  const attempts: (() => unknown)[] = [
    () => {
      const s = summarizeHeap(p, { maxSites: 20 });
      JSON.stringify(diffHeap(s, s));
    },
    () => summarizeGoroutines(p),
    () => renderTopText(topTable(p, {}, p), { limit: 20 }),
    () => topTable(p, { by: "line" }),
  ];
  for (const attempt of attempts) {
    if (p.stacks === "leaf" && attempt !== attempts[0]) continue;
    expectOnlyProfileErrors(attempt);
  }
}

function expectOnlyProfileErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ProfileError)) throw err;
  }
}

describe("decoder fuzzing", () => {
  it("survives 10,000 mutated real profiles (decompressed) with a result or a ProfileError", () => {
    let decoded = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: raw.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (which, mutations, leaf) => {
          const input = mutate(raw[which] ?? Buffer.alloc(0), mutations);
          expectOnlyProfileErrors(() => {
            const p = decodeProfile(input, { stacks: leaf ? "leaf" : "full" });
            decoded++;
            exercise(p);
          });
        },
      ),
      { numRuns: 10_000, seed: SEED },
    );
    expect(decoded).toBeGreaterThan(100); // some mutations leave a valid profile: those paths ran too
  });

  it("survives 3,000 profiles with fields set to hostile values (huge, negative, dangling ids)", () => {
    type Edit = { field: (typeof FIELDS)[number]; at: number; value: bigint };
    const FIELDS = [
      "value",
      "locationId",
      "address",
      "lineFunction",
      "line",
      "functionName",
      "sampleType",
    ] as const;
    const edit: fc.Arbitrary<Edit> = fc.record({
      field: fc.constantFrom(...FIELDS),
      at: fc.nat(),
      value: fc.oneof(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.bigInt({ min: 0n, max: 64n }),
        fc.constantFrom(0n, 2n ** 53n, 2n ** 53n + 1n, -1n, 2n ** 64n - 1n),
      ),
    });
    let decoded = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: raw.length - 1 }),
        fc.array(edit, { minLength: 1, maxLength: 5 }),
        (which, edits) => {
          const p = PprofFormat.decode(raw[which] ?? Buffer.alloc(0));
          const pick = <T>(xs: readonly T[], at: number): T | undefined => xs[at % Math.max(xs.length, 1)];
          for (const e of edits) {
            const sample = pick(p.sample, e.at);
            const location = pick(p.location, e.at);
            const line = location === undefined ? undefined : pick(location.line, e.at);
            const fn = pick(p.function, e.at);
            if (e.field === "value" && sample !== undefined)
              sample.value[e.at % sample.value.length] = e.value;
            if (e.field === "locationId" && sample !== undefined)
              sample.locationId[0] = BigInt.asUintN(64, e.value);
            if (e.field === "address" && location !== undefined)
              location.address = BigInt.asUintN(64, e.value);
            if (e.field === "lineFunction" && line !== undefined)
              line.functionId = BigInt.asUintN(64, e.value);
            if (e.field === "line" && line !== undefined) line.line = e.value;
            if (e.field === "functionName" && fn !== undefined) fn.name = e.value;
            const type = pick(p.sampleType, e.at);
            if (e.field === "sampleType" && type !== undefined) type.type = e.value;
          }
          let encoded: Uint8Array;
          try {
            encoded = p.encode();
          } catch {
            return; // pprof-format refused to encode it: nothing to feed us
          }
          expectOnlyProfileErrors(() => {
            exercise(decodeProfile(encoded, { stacks: "full" }));
            decoded++;
          });
        },
      ),
      { numRuns: 3_000, seed: SEED },
    );
    expect(decoded).toBeGreaterThan(300);
  });

  it("survives 1,000 mutated gzipped profiles", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: gzipped.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (which, mutations) => {
          const input = mutate(gzipped[which] ?? Buffer.alloc(0), mutations);
          expectOnlyProfileErrors(() => {
            exercise(decodeProfileBytes(input, { stacks: "full" }));
          });
        },
      ),
      { numRuns: 1_000, seed: SEED },
    );
  });
});
