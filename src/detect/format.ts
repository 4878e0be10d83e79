// Short human-readable numbers for reasons and the CLI timeline.

export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = abs;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = value >= 100 || unit === 0 ? 0 : value >= 10 ? 1 : 2;
  return `${bytes < 0 ? "-" : ""}${value.toFixed(digits)}${units[unit] ?? "B"}`;
}

export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest === 0 ? `${hours}h` : `${hours}h${rest}m`;
  const days = Math.floor(hours / 24);
  const restHours = hours % 24;
  return restHours === 0 ? `${days}d` : `${days}d${restHours}h`;
}

export function formatPercent(value: number): string {
  const abs = Math.abs(value);
  return `${value.toFixed(abs >= 10 ? 0 : 1)}%`;
}

/** Formats a per-hour rate of bytes or goroutines. */
export function formatRate(perHour: number, kind: "heap" | "goroutines"): string {
  return kind === "heap"
    ? `${formatBytes(perHour)}/h`
    : `${perHour.toFixed(Math.abs(perHour) >= 10 ? 0 : 1)} goroutines/h`;
}
