// Reads a few series out of Prometheus' text format (the demo's live table comes from the
// operator's own /metrics, as a Prometheus user would see it).

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string, names: ReadonlySet<string>): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const match = LINE.exec(line);
    if (match === null) continue;
    const [, name = "", labelText = "", value = ""] = match;
    if (!names.has(name)) continue;
    const labels: Record<string, string> = {};
    for (const m of labelText.matchAll(LABEL)) labels[m[1] ?? ""] = (m[2] ?? "").replace(/\\(.)/g, "$1");
    out.push({ name, labels, value: Number(value) });
  }
  return out;
}
