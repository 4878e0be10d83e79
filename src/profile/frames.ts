// Turning a location into the frames people read: function, file, line — innermost first.
import type { Profile } from "./profile.ts";
import { NONE } from "./profile.ts";

export interface Frame {
  /** Function name, or the address (e.g. "0x4a3b2c") when the profile has no symbols for it. */
  readonly function: string;
  readonly file: string;
  readonly line: number;
  /** Inlined into the next frame of the same location. */
  readonly inline: boolean;
  readonly symbolized: boolean;
}

export function formatAddress(hi: number, lo: number): string {
  return hi === 0 ? `0x${lo.toString(16)}` : `0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")}`;
}

/** The frames of one location (a table position), innermost (inlined) first. */
export function locationFrames(p: Profile, loc: number): Frame[] {
  const { locations: l, functions: f, strings } = p;
  const first = l.lineOffsets[loc] ?? 0;
  const end = l.lineOffsets[loc + 1] ?? first;
  const address = (): string => formatAddress(l.addressHi[loc] ?? 0, l.addressLo[loc] ?? 0);
  if (first === end) return [{ function: address(), file: "", line: 0, inline: false, symbolized: false }];
  const frames: Frame[] = [];
  for (let i = first; i < end; i++) {
    const fn = l.lineFunction[i] ?? NONE;
    const inline = i < end - 1;
    const name = fn === NONE ? "" : strings.get(f.name[fn] ?? 0);
    if (name === "") {
      frames.push({ function: address(), file: "", line: 0, inline, symbolized: false });
    } else {
      const file = strings.get(f.file[fn] ?? 0);
      frames.push({ function: name, file, line: l.lineNumber[i] ?? 0, inline, symbolized: true });
    }
  }
  return frames;
}

/** The last path element of a file name: "cache.go" for "/src/app/cache.go". */
export function shortFile(file: string): string {
  const slash = Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\"));
  return slash < 0 ? file : file.slice(slash + 1);
}
