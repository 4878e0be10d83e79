// Heap profiles for the fleet: bench/profile's real Go profiles (~40 KiB and ~250 KiB gzipped, each
// with its earlier "base" profile) and variants of them whose in-use values are scaled per sample,
// so a target rotating through them shows a moving heap and a shifting ranking of sites.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { Profile } from "pprof-format";
import { benchProfiles, TARGETS } from "../profile/profiles.ts";

/** Profiles per source file: the file itself and VARIANTS - 1 rescaled copies. */
const VARIANTS = 4;
const SCALED_TYPES = new Set(["inuse_space", "inuse_objects"]);

type Numeric = number | bigint;

function scale(value: Numeric, factor: number): Numeric {
  return typeof value === "bigint"
    ? (value * BigInt(Math.round(factor * 1000))) / 1000n
    : Math.round(value * factor);
}

/** The profile with every sample's in-use values scaled by a factor in [1, 1 + spread]. */
function variant(gz: Buffer, k: number, spread = 0.3): Buffer {
  const p = Profile.decode(zlib.gunzipSync(gz));
  const names = p.sampleType.map((t) => p.stringTable.strings[Number(t.type)] ?? "");
  const scaled = names.flatMap((name, i) => (SCALED_TYPES.has(name) ? [i] : []));
  p.sample.forEach((sample, j) => {
    const factor = 1 + (spread * ((j * 7 + k * 3) % 11)) / 10;
    for (const i of scaled) {
      const v = sample.value[i];
      if (v !== undefined) sample.value[i] = scale(v, factor);
    }
  });
  return zlib.gzipSync(p.encode(), { level: zlib.constants.Z_BEST_SPEED }); // as Go writes them
}

export interface HeapVariants {
  /** ~40 KiB gzipped each. */
  small: string[];
  /** ~250 KiB gzipped each. */
  large: string[];
}

export function heapVariants(): HeapVariants {
  const profiles = benchProfiles();
  const pick = (label: string): { file: string; baseFile: string } => {
    const found = profiles.find((p) => p.label === label);
    if (found === undefined) throw new Error(`bench/profile has no ${label} profile`);
    return found;
  };
  const [small, large] = [pick(TARGETS[0].label), pick(TARGETS[1].label)];
  const sources = [small.file, small.baseFile, large.file, large.baseFile];
  const hash = createHash("sha256");
  for (const file of sources) hash.update(readFileSync(file));
  hash.update(variant.toString());
  const dir = path.join(path.dirname(small.file), `fleet-${hash.digest("hex").slice(0, 12)}`);
  mkdirSync(dir, { recursive: true });
  const make = (source: string, slug: string): string[] =>
    Array.from({ length: VARIANTS }, (_, k) => {
      const out = path.join(dir, `${slug}-${k}.pb.gz`);
      if (!existsSync(out)) {
        if (k === 0) copyFileSync(source, `${out}.tmp`);
        else writeFileSync(`${out}.tmp`, variant(readFileSync(source), k));
        renameSync(`${out}.tmp`, out);
      }
      return out;
    });
  return {
    small: [...make(small.file, "small-end"), ...make(small.baseFile, "small-base")],
    large: [...make(large.file, "large-end"), ...make(large.baseFile, "large-base")],
  };
}
