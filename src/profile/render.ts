// Text renderings for people; JSON renderings are the objects themselves.
import type { GoroutineDiff, HeapDiff } from "./diff.ts";
import { siteName } from "./diff.ts";
import { formatBytes, formatCount, formatPercent, formatRelative, formatSignedBytes } from "./format.ts";
import type { GoroutineSummary } from "./goroutines.ts";
import { describeGroup, goroutineGroups } from "./goroutines.ts";
import type { TopTable } from "./top.ts";

/** Compact value for table columns, pprof-like ("2.62MiB", "1600"). */
function cell(value: number, unit: string): string {
  if (value === 0) return "0";
  return unit === "bytes" ? formatBytes(value).replace(" ", "") : formatCount(value).replaceAll(",", "");
}

export interface RenderTopOptions {
  /** Rows to print (default: all). */
  readonly limit?: number;
}

/** Like `go tool pprof -top`: flat, flat%, sum%, cum, cum%, name. */
export function renderTopText(t: TopTable, options: RenderTopOptions = {}): string {
  const unit = t.sampleType.unit;
  const rows = t.rows.slice(0, options.limit ?? t.rows.length);
  const shown = rows.reduce((sum, r) => sum + r.flat, 0);
  const lines = [
    `Type: ${t.sampleType.type}${t.diff ? " (new - base)" : ""}`,
    `Showing nodes accounting for ${cell(shown, unit)}, ${formatPercent(shown, t.total).trim()} of ${cell(t.total, unit)} total`,
  ];
  if (rows.length < t.rows.length) lines.push(`Showing top ${rows.length} nodes out of ${t.rows.length}`);
  if (!t.symbolized) {
    lines.push("Some frames have no symbols and show as addresses (symbolize: go tool pprof BINARY PROFILE)");
  }
  lines.push(
    `${"flat".padStart(10)} ${"flat%".padStart(6)} ${"sum%".padStart(6)} ${"cum".padStart(10)} ${"cum%".padStart(6)}`,
  );
  let sum = 0;
  for (const r of rows) {
    sum += r.flat;
    const inline = r.inline === "" ? "" : ` (${r.inline})`;
    lines.push(
      `${cell(r.flat, unit).padStart(10)} ${formatPercent(r.flat, t.total)} ${formatPercent(sum, t.total)} ${cell(r.cum, unit).padStart(10)} ${formatPercent(r.cum, t.total)}  ${r.name}${inline}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Headline, in-use total, then one line per growing site. */
export function renderHeapDiffText(d: HeapDiff): string {
  const t = d.inuseBytes;
  const rel = t.relative === null ? "" : ` (${formatRelative(t.relative)})`;
  const lines = [
    d.headline,
    `in-use: ${formatBytes(t.base)} -> ${formatBytes(t.new)}, ${formatSignedBytes(t.delta)}${rel}`,
  ];
  if (d.rows.length > 0) {
    lines.push(
      `${"growth".padStart(11)} ${"rel".padStart(7)} ${"base".padStart(10)} ${"new".padStart(10)}  site`,
    );
  }
  for (const r of d.rows) {
    const relText = r.relative === null ? "new" : formatRelative(r.relative);
    lines.push(
      `${formatSignedBytes(r.deltaBytes).padStart(11)} ${relText.padStart(7)} ${formatBytes(r.baseBytes).padStart(10)} ${formatBytes(r.newBytes).padStart(10)}  ${siteName(r)}`,
    );
  }
  if (d.baseTruncated) lines.push('("new" sites may have been below the base summary\'s cut)');
  return `${lines.join("\n")}\n`;
}

export function renderGoroutinesText(s: GoroutineSummary, limit?: number): string {
  const groups = goroutineGroups(s);
  const shown = groups.slice(0, limit ?? groups.length);
  const kind = s.profileType === "goroutineleak" ? "leaked goroutines" : "goroutines";
  const lines = [`${formatCount(s.total)} ${kind}`, ...shown.map((g) => `  ${describeGroup(g)}`)];
  const rest = groups.length - shown.length + s.other.groups;
  if (rest > 0) lines.push(`  … ${rest} more blocking sites`);
  return `${lines.join("\n")}\n`;
}

export function renderGoroutineDiffText(d: GoroutineDiff): string {
  const lines = [d.headline, `goroutines: ${formatCount(d.total.base)} -> ${formatCount(d.total.new)}`];
  for (const r of d.rows) {
    const rel = r.relative === null ? "new" : formatRelative(r.relative);
    lines.push(
      `  +${formatCount(r.delta)} (${rel}) ${siteName(r)} ${r.state}: ${r.baseCount} -> ${r.newCount}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
