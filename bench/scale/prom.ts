// Just enough of the Prometheus text format to read counters, gauges and histograms from the
// operator's and the API server's /metrics.

export interface PromSample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseProm(text: string, only?: (name: string) => boolean): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const name = m[1] ?? "";
    if (only !== undefined && !only(name)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1] ?? ""] = l[2] ?? "";
    out.push({ name, labels, value: Number(m[3]) });
  }
  return out;
}

export function sum(
  samples: readonly PromSample[],
  name: string,
  where: (labels: Readonly<Record<string, string>>) => boolean = () => true,
): number {
  let total = 0;
  for (const s of samples) if (s.name === name && where(s.labels)) total += s.value;
  return total;
}

/** Cumulative bucket counts of an unlabelled histogram, by upper bound. */
export function buckets(samples: readonly PromSample[], name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket`) continue;
    const le = s.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

/** Bucket counts observed between two readings. */
export function bucketDelta(before: Map<number, number>, after: Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, n] of after) out.set(le, n - (before.get(le) ?? 0));
  return out;
}

/**
 * The q-quantile as Prometheus's histogram_quantile computes it (linear within the bucket), with
 * the bucket's bounds, since the interpolation is only as good as the buckets.
 */
export function quantile(
  cumulative: Map<number, number>,
  q: number,
): { value: number; lower: number; upper: number } | undefined {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Number.POSITIVE_INFINITY) ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const le of bounds) {
    const count = cumulative.get(le) ?? 0;
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return { value: prevBound, lower: prevBound, upper: le };
      const inBucket = count - prevCount;
      const value = inBucket <= 0 ? le : prevBound + ((le - prevBound) * (rank - prevCount)) / inBucket;
      return { value, lower: prevBound, upper: le };
    }
    prevBound = le;
    prevCount = count;
  }
  return undefined;
}
