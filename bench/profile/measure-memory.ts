// Child process: runs one path once, cold, on one profile and prints how far its resident
// memory peaked above where it started. Linux lets a process reset its peak (VmHWM) by writing "5"
// to /proc/self/clear_refs, which makes the peak of one run measurable; elsewhere the
// process-wide maxRSS is used, which hides runs smaller than node's own startup peak.
import { readFileSync, writeFileSync } from "node:fs";
import { isPathName, PATHS } from "./paths.ts";

const [pathName = "", file = ""] = process.argv.slice(2);
if (!isPathName(pathName)) throw new Error(`unknown path ${pathName}`);
const gz = readFileSync(file);
// No warm-up run: its pages would stay resident and hide the measured run's peak.

function statusKiB(field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

let exact = true;
try {
  writeFileSync("/proc/self/clear_refs", "5");
} catch {
  exact = false;
}
const startKiB = (exact ? statusKiB("VmRSS") : undefined) ?? process.resourceUsage().maxRSS;
const result = PATHS[pathName](gz);
const peakKiB = (exact ? statusKiB("VmHWM") : undefined) ?? process.resourceUsage().maxRSS;
process.stdout.write(
  `${JSON.stringify({ peakRiseKiB: peakKiB - startKiB, exact, kept: result !== undefined })}\n`,
);
