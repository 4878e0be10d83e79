// From a container's memory limit to the live heap at which it would be OOM-killed.
//
// Go's heap profile reports the live heap as of the last GC. Between collections the heap grows to
// about (1 + GOGC/100) × live before the next GC (twice the live heap at the default GOGC=100), and
// the container also holds memory that is not heap: goroutine stacks, runtime metadata, the binary.
// So the container reaches its limit when
//     live heap × (1 + gcHeadroomPercent/100) + runtimeOverhead ≈ limit,
// i.e. the heap ceiling is (limit − runtimeOverhead) / (1 + gcHeadroomPercent/100). Both numbers are
// LeakWatch settings (spec.detection.memoryModel): a service with GOMEMLIMIT or GOGC=50 tunes them.
import type { DetectionSettings } from "../api/defaults.ts";

export function heapCeilingBytes(
  memoryLimitBytes: number | undefined,
  detection: DetectionSettings,
): number | undefined {
  if (memoryLimitBytes === undefined || memoryLimitBytes <= 0) return undefined;
  const usable = memoryLimitBytes - detection.runtimeOverheadBytes;
  if (usable <= 0) return undefined;
  return usable / (1 + detection.gcHeadroomPercent / 100);
}
