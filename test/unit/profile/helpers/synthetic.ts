// Profiles of shapes Go does not write, encoded with pprof-format (a devDependency):
// Node's @datadog/pprof heap order, a single sample type, an unsymbolized profile.
import { gunzipSync, gzipSync } from "node:zlib";
import type { ProfileInput } from "pprof-format";
import { Profile, StringTable } from "pprof-format";

export function encode(input: Omit<ProfileInput, "stringTable">, strings: StringTable): Buffer {
  return gzipSync(new Profile({ ...input, stringTable: strings }).encode());
}

interface Site {
  readonly fn: string;
  readonly file: string;
  readonly line: number;
}

/** A profile from sample stacks (leaf first) with the given sample types and values. */
export function buildProfile(
  types: readonly [string, string][],
  samples: readonly { stack: readonly Site[]; values: readonly (number | bigint)[] }[],
  extra: Partial<Omit<ProfileInput, "stringTable" | "sample" | "sampleType">> = {},
): Buffer {
  const st = new StringTable();
  const functions = new Map<string, number>();
  const locations = new Map<string, number>();
  const fnInputs: { id: number; name: number; filename: number }[] = [];
  const locInputs: { id: number; address: number; line: { functionId: number; line: number }[] }[] = [];
  const locationId = (s: Site): number => {
    const key = `${s.fn}\0${s.file}\0${s.line}`;
    let id = locations.get(key);
    if (id === undefined) {
      const fkey = `${s.fn}\0${s.file}`;
      let fid = functions.get(fkey);
      if (fid === undefined) {
        fid = functions.size + 1;
        functions.set(fkey, fid);
        fnInputs.push({ id: fid, name: st.dedup(s.fn), filename: st.dedup(s.file) });
      }
      id = locations.size + 1;
      locations.set(key, id);
      locInputs.push({ id, address: 0x1000 + id * 16, line: [{ functionId: fid, line: s.line }] });
    }
    return id;
  };
  const sampleType = types.map(([type, unit]) => ({ type: st.dedup(type), unit: st.dedup(unit) }));
  const sample = samples.map((s) => ({ locationId: s.stack.map(locationId), value: [...s.values] }));
  return encode({ ...extra, sampleType, sample, location: locInputs, function: fnInputs }, st);
}

const server = { fn: "handleRequest", file: "/app/server.js", line: 40 };
const main = { fn: "main", file: "/app/index.js", line: 3 };

/** @datadog/pprof's heap profile: sample types objects/count then space/bytes. */
export function nodeHeapProfile(): Buffer {
  return buildProfile(
    [
      ["objects", "count"],
      ["space", "bytes"],
    ],
    [
      {
        stack: [{ fn: "cacheResponse", file: "/app/cache.js", line: 17 }, server, main],
        values: [300, 3_000_000],
      },
      { stack: [{ fn: "parseBody", file: "/app/body.js", line: 9 }, server, main], values: [20, 40_960] },
      { stack: [{ fn: "(anonymous)", file: "/app/index.js", line: 12 }, main], values: [0, 0] },
    ],
  );
}

/** A runtime that reports only in-use bytes. */
export function singleTypeProfile(): Buffer {
  return buildProfile(
    [["inuse_space", "bytes"]],
    [
      {
        stack: [
          { fn: "alloc::grow", file: "src/buf.rs", line: 88 },
          { fn: "app::run", file: "src/main.rs", line: 5 },
        ],
        values: [1 << 20],
      },
      {
        stack: [
          { fn: "app::load", file: "src/main.rs", line: 9 },
          { fn: "app::run", file: "src/main.rs", line: 5 },
        ],
        values: [4096],
      },
    ],
  );
}

/** The Go heap profile with its symbols removed: locations keep their addresses only. */
export function unsymbolize(goHeapGz: Buffer): Buffer {
  const p = Profile.decode(gunzipSync(goHeapGz));
  for (const l of p.location) l.line = [];
  p.function = [];
  for (const m of p.mapping) {
    m.hasFunctions = false;
    m.hasFilenames = false;
    m.hasLineNumbers = false;
    m.hasInlineFrames = false;
  }
  return gzipSync(p.encode());
}
