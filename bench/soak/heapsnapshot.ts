// Reads a V8 .heapsnapshot and counts objects and their self size by constructor, so two snapshots
// taken apart in a soak show what kind of object accumulated: the first question about a leak.
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export type ByConstructor = Map<string, { count: number; bytes: number }>;

export function byConstructor(path: string): ByConstructor {
  const snap = JSON.parse(readFileSync(path, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const types = snap.snapshot.meta.node_types[0];
  const out: ByConstructor = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] ?? 0] ?? "?";
    if (type === "hidden" || type === "synthetic") continue;
    const name =
      type === "object" || type === "closure"
        ? (snap.strings[snap.nodes[i + nameAt] ?? 0] ?? "?")
        : `(${type})`;
    const key = type === "closure" ? `${name}()` : name;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + sizeAt] ?? 0;
    out.set(key, entry);
  }
  return out;
}

/** The constructors that grew most between two snapshots, by bytes. */
export function growth(
  before: ByConstructor,
  after: ByConstructor,
  top = 15,
): { name: string; count: number; bytes: number }[] {
  const rows: { name: string; count: number; bytes: number }[] = [];
  for (const [name, a] of after) {
    const b = before.get(name) ?? { count: 0, bytes: 0 };
    rows.push({ name, count: a.count - b.count, bytes: a.bytes - b.bytes });
  }
  return rows.sort((x, y) => y.bytes - x.bytes).slice(0, top);
}
