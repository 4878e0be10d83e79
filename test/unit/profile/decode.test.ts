import { readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { Profile as PprofFormat } from "pprof-format";
import { describe, expect, it } from "vitest";
import {
  decodeProfile,
  decodeProfileBytes,
  locationFrames,
  MalformedProfileError,
  ProfileReferenceError,
  sampleTotals,
} from "../../../src/profile/index.ts";
import { FIXTURES } from "./helpers/go.ts";
import { bytesField, message, packed, stringField, valueType, varintField } from "./helpers/proto-writer.ts";

const goHeap = readFileSync(path.join(FIXTURES, "go-heap.pb.gz"));

/** A profile message: strings, one sample type, and the given extra fields. */
function profile(strings: readonly string[], ...fields: (readonly number[])[]): Buffer {
  return message(valueType(1, 1, 2), ...fields, ...strings.map((s) => stringField(6, s)));
}
const STRINGS = ["", "inuse_space", "bytes", "main.f", "f.go"];
const fn = bytesField(5, [...varintField(1, 1), ...varintField(2, 3), ...varintField(4, 4)]);
const loc = (id: number, line = 7): number[] =>
  bytesField(4, [...varintField(1, id), ...bytesField(4, [...varintField(1, 1), ...varintField(2, line)])]);
const sample = (locs: readonly (number | bigint)[], value: number | bigint): number[] =>
  bytesField(2, [...packed(1, locs), ...packed(2, [value])]);

describe("decodeProfile", () => {
  it("reads a real Go heap profile the way pprof-format does", () => {
    const raw = gunzipSync(goHeap);
    const ours = decodeProfile(raw);
    const peer = PprofFormat.decode(raw);
    const str = (i: number | bigint): string => peer.stringTable.strings[Number(i)] ?? "";
    expect(ours.sampleTypes).toEqual(peer.sampleType.map((t) => ({ type: str(t.type), unit: str(t.unit) })));
    expect(ours.sampleCount).toBe(peer.sample.length);
    expect(ours.locations.count).toBe(peer.location.length);
    expect(ours.functions.count).toBe(peer.function.length);
    expect(Array.from(ours.values)).toEqual(peer.sample.flatMap((s) => s.value.map(Number)));
    const locIndex = new Map(peer.location.map((l, i) => [Number(l.id), i]));
    expect(Array.from(ours.stackLocations)).toEqual(
      peer.sample.flatMap((s) => s.locationId.map((id) => locIndex.get(Number(id)))),
    );
    const fns = new Map(peer.function.map((f) => [Number(f.id), f]));
    peer.location.forEach((l, i) => {
      const frames = locationFrames(ours, i);
      expect(frames.map((f) => [f.function, f.file, f.line])).toEqual(
        l.line.map((line) => {
          const f = fns.get(Number(line.functionId));
          return [str(f?.name ?? 0), str(f?.filename ?? 0), Number(line.line)];
        }),
      );
    });
    expect(ours.timeNanos).toBe(Number(peer.timeNanos));
    expect(ours.inexactValues).toBe(false); // time_nanos is beyond 2^53: only sample values count
    expect(ours.periodType).toEqual({ type: "space", unit: "bytes" });
  });

  it("keeps only the leaf of each stack with stacks: leaf, and the same values", () => {
    const full = decodeProfileBytes(goHeap, { stacks: "full" });
    const leaf = decodeProfileBytes(goHeap, { stacks: "leaf" });
    expect(leaf.stacks).toBe("leaf");
    expect(leaf.values).toEqual(full.values);
    for (let i = 0; i < full.sampleCount; i++) {
      expect(leaf.stackLocations[leaf.stackOffsets[i] ?? 0]).toBe(
        full.stackLocations[full.stackOffsets[i] ?? 0],
      );
      expect((leaf.stackOffsets[i + 1] ?? 0) - (leaf.stackOffsets[i] ?? 0)).toBe(1);
    }
    expect(leaf.labels).toBeUndefined();
    expect(full.labels?.key.length).toBeGreaterThan(0); // Go labels heap samples with "bytes"
  });

  it("accepts unpacked repeated fields as well as packed ones", () => {
    const unpacked = bytesField(2, [...varintField(1, 1), ...varintField(2, 42)]);
    const p = decodeProfile(profile(STRINGS, fn, loc(1), unpacked));
    expect(Array.from(p.values)).toEqual([42]);
    expect(locationFrames(p, p.stackLocations[0] ?? 0)[0]).toMatchObject({ function: "main.f", line: 7 });
  });

  it("resolves ids wherever their tables come in the message", () => {
    const p = decodeProfile(
      message(...STRINGS.map((s) => stringField(6, s)), sample([9], 5), loc(9), fn, valueType(1, 1, 2)),
    );
    expect(locationFrames(p, p.stackLocations[0] ?? 0)[0]?.function).toBe("main.f");
  });

  it("maps ids to positions whether they are 1…n in order (Go's), shuffled, or invalid", () => {
    const inOrder = decodeProfile(profile(STRINGS, fn, loc(1, 1), loc(2, 2), sample([2], 1), sample([1], 2)));
    expect(Array.from(inOrder.stackLocations)).toEqual([1, 0]);
    const shuffled = decodeProfile(
      profile(STRINGS, fn, loc(2, 2), loc(1, 1), sample([2], 1), sample([1], 2)),
    );
    expect(Array.from(shuffled.stackLocations)).toEqual([0, 1]);
    expect(locationFrames(shuffled, 0)[0]?.line).toBe(2);
    for (const missing of [0, 3]) {
      expect(() => decodeProfile(profile(STRINGS, fn, loc(1), loc(2), sample([missing], 1)))).toThrow(
        ProfileReferenceError,
      );
    }
    expect(() => decodeProfile(profile(STRINGS, fn, loc(1), loc(1), sample([1], 1)))).toThrow(
      /duplicate location id 1/,
    );
    expect(() => decodeProfile(profile(STRINGS, fn, loc(0), sample([1], 1)))).toThrow(/reserved id 0/);
  });

  it("handles sparse and 64-bit ids", () => {
    const big = 2n ** 63n + 5n;
    const p = decodeProfile(
      profile(
        STRINGS,
        fn,
        loc(Number(2n ** 40n)),
        bytesField(4, varintField(1, big)),
        sample([big], 1),
        sample([2 ** 40], 2),
      ),
    );
    expect(p.sampleCount).toBe(2);
    expect(p.stackLocations[0]).not.toBe(p.stackLocations[1]);
  });

  it("reads negative values and values beyond 2^53 (as the nearest double, flagged)", () => {
    const p = decodeProfile(profile(STRINGS, fn, loc(1), sample([1], -12345), sample([1], 2n ** 60n + 1n)));
    expect(Array.from(p.values)).toEqual([-12345, 2 ** 60]);
    expect(p.inexactValues).toBe(true);
    const exact = decodeProfile(
      profile(STRINGS, fn, loc(1), sample([1], 2 ** 53 - 1), sample([1], -(2 ** 53 - 1))),
    );
    expect(Array.from(exact.values)).toEqual([2 ** 53 - 1, -(2 ** 53 - 1)]);
    expect(exact.inexactValues).toBe(false);
  });

  it("skips fields it does not know", () => {
    const p = decodeProfile(
      profile(STRINGS, fn, loc(1), varintField(99, 7), bytesField(100, [1, 2, 3]), sample([1], 3)),
    );
    expect(p.sampleCount).toBe(1);
  });

  it("decodes a string table much larger than what it references, lazily", () => {
    const filler = Array.from({ length: 50_000 }, (_, i) => `unused-string-${i}`);
    const p = decodeProfile(profile([...STRINGS, ...filler], fn, loc(1), sample([1], 1)));
    expect(p.strings.count).toBe(STRINGS.length + filler.length);
    expect(sampleTotals(p)).toEqual({ inuse_space: 1 });
  });

  it("rejects references to locations, functions and strings that do not exist", () => {
    expect(() => decodeProfile(profile(STRINGS, fn, loc(1), sample([2], 1)))).toThrow(ProfileReferenceError);
    const badFn = bytesField(4, [...varintField(1, 1), ...bytesField(4, varintField(1, 7))]);
    expect(() => decodeProfile(profile(STRINGS, fn, badFn, sample([1], 1)))).toThrow(ProfileReferenceError);
    const badName = bytesField(5, [...varintField(1, 1), ...varintField(2, 999)]);
    expect(() => decodeProfile(profile(STRINGS, badName, loc(1), sample([1], 1)))).toThrow(
      ProfileReferenceError,
    );
    expect(() =>
      decodeProfile(message(valueType(1, 77, 2), ...STRINGS.map((s) => stringField(6, s)))),
    ).toThrow(ProfileReferenceError);
    expect(() => decodeProfile(profile(STRINGS, varintField(14, -1)))).toThrow(ProfileReferenceError);
  });

  it("rejects messages that are not profiles", () => {
    const notProfiles = [
      Buffer.alloc(0),
      Buffer.from("<!DOCTYPE html><html>404</html>"),
      Buffer.from(JSON.stringify({ profile: true })),
      message(stringField(6, "x")), // string_table[0] must be ""
      message(varintField(2, 5), stringField(6, "")), // a sample with the wrong wire type
      message([0x0b, 0x0c]), // groups are not part of profile.proto
    ];
    for (const buf of notProfiles) expect(() => decodeProfile(buf)).toThrow(MalformedProfileError);
  });

  it("rejects samples whose value count does not match the sample types", () => {
    const two = bytesField(2, [...packed(1, [1]), ...packed(2, [1, 2])]);
    expect(() => decodeProfile(profile(STRINGS, fn, loc(1), two))).toThrow(
      /2 or more values for 1 sample types/,
    );
    const none = bytesField(2, packed(1, [1]));
    expect(() => decodeProfile(profile(STRINGS, fn, loc(1), none))).toThrow(/0 values for 1 sample types/);
  });

  it("rejects truncated messages at every cut", () => {
    const raw = gunzipSync(goHeap);
    for (const cut of [1, 2, 3, 10, 100, 1000, raw.length >> 1, raw.length - 1]) {
      expect(() => decodeProfile(raw.subarray(0, cut))).toThrow(MalformedProfileError);
    }
  });

  it("refuses sample counts that cannot fit the message before allocating for them", () => {
    const types = Array.from({ length: 2000 }, () => valueType(1, 1, 2));
    const samples = Array.from({ length: 2000 }, () => bytesField(2, []));
    expect(() => decodeProfile(message(...types, ...samples, stringField(6, "")))).toThrow(/cannot fit/);
  });
});
