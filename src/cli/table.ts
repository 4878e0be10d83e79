// Plain-text tables like kubectl's: upper-case headers, columns as wide as their widest cell and
// three spaces apart, no trailing blanks. Pure.

/** A column: its header, and whether it is shown (columns that are off are dropped). */
export interface Column<Row> {
  readonly header: string;
  readonly cell: (row: Row) => string;
  readonly when?: boolean;
}

const GAP = "   ";

/** Renders rows under their headers; every line ends with "\n". */
export function renderTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const shown = columns.filter((c) => c.when !== false);
  const cells = [shown.map((c) => c.header), ...rows.map((row) => shown.map((c) => oneLine(c.cell(row))))];
  const widths = shown.map((_, i) => Math.max(...cells.map((line) => width(line[i] ?? ""))));
  return cells
    .map(
      (line) =>
        `${line
          .map((cell, i) => (i === line.length - 1 ? cell : pad(cell, widths[i] ?? 0)))
          .join(GAP)
          .trimEnd()}\n`,
    )
    .join("");
}

/** Cuts text to `max` characters, ending with "…" when cut. */
export function truncate(text: string, max: number): string {
  const chars = graphemes(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}

/** Newlines and tabs would break the columns: a cell is one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });

function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** Width in characters as a person counts them, so "…" and "µ" count as one. */
function width(text: string): number {
  return graphemes(text).length;
}

function pad(text: string, to: number): string {
  return text + " ".repeat(Math.max(0, to - width(text)));
}

/**
 * An age the way kubectl prints one (k8s.io/apimachinery's HumanDuration): "45s", "5m30s", "150m",
 * "5h10m", "20h", "3d4h", "40d", "2y30d".
 */
export function humanAge(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** The age of an RFC 3339 time at `now`, or "?" when it is not a time. */
export function ageOf(time: string | undefined, now: number): string {
  const t = Date.parse(time ?? "");
  return Number.isFinite(t) ? humanAge(now - t) : "?";
}
