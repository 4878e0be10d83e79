// Durations as Kubernetes APIs write them (Go's time.ParseDuration syntax, which CEL's
// duration() also reads): "90s", "1h30m", "250ms". No days: "24h" is a day.
import { SpecError } from "./errors.ts";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const TOKEN = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
/** The same syntax as the CRD's pattern for duration fields. */
export const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";

export function parseDuration(text: string, field = "duration"): number {
  if (text === "0") return 0;
  TOKEN.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = TOKEN.exec(text); match !== null; match = TOKEN.exec(text)) {
    const [whole, amount = "", unit = ""] = match;
    total += Number(amount) * (UNIT_MS[unit] ?? Number.NaN);
    consumed += whole.length;
  }
  if (consumed === 0 || consumed !== text.length || !Number.isFinite(total)) {
    throw new SpecError(field, `"${text}" is not a duration (write it like 90s, 15m or 1h30m)`);
  }
  return Math.round(total);
}

const DISPLAY_UNITS: readonly (readonly [string, number])[] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
];

/** Short human form: the largest unit and, if not zero, the next one: "1h30m", "45s", "2d3h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "∞";
  if (Math.abs(ms) < 1_000) return `${Math.round(ms)}ms`;
  const sign = ms < 0 ? "-" : "";
  const seconds = Math.round(Math.abs(ms) / 1_000) * 1_000;
  const first = DISPLAY_UNITS.findIndex(([, size]) => seconds >= size);
  const [unit = "s", size = 1_000] = DISPLAY_UNITS[first] ?? [];
  const whole = Math.floor(seconds / size);
  const [nextUnit = "", nextSize = 1] = DISPLAY_UNITS[first + 1] ?? [];
  const next = nextUnit === "" ? 0 : Math.floor((seconds - whole * size) / nextSize);
  return `${sign}${whole}${unit}${next > 0 ? `${next}${nextUnit}` : ""}`;
}

/** A coarse form for status fields that must not change every scrape: "3h", "40m", "2d". */
export function roundDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "∞";
  const minutes = ms / 60_000;
  if (minutes < 60) return `${Math.max(1, Math.round(minutes / 5) * 5)}m`;
  const hours = minutes / 60;
  if (hours < 48) return `${Math.round(hours)}h`;
  return `${Math.round(hours / 24)}d`;
}
