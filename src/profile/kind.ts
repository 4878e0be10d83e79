// What a profile is for: the analyses that apply to it follow from its sample types.
import { GOROUTINE_TYPES } from "./goroutines.ts";
import { INUSE_SPACE_TYPES } from "./heap.ts";
import type { Profile } from "./profile.ts";

export type ProfileKind = "heap" | "goroutine" | "other";

/** "heap" with in-use bytes, "goroutine" for goroutine/goroutineleak counts, else "other". */
export function profileKind(p: Profile): ProfileKind {
  const has = (names: readonly string[]): boolean => p.sampleTypes.some((t) => names.includes(t.type));
  if (has(GOROUTINE_TYPES)) return "goroutine";
  if (has(INUSE_SPACE_TYPES)) return "heap";
  return "other";
}
