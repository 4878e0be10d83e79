// One copy of each function and file name across all baselines: pods of one image share the same
// strings, so 5,000 baselines cost the numbers, not 5,000 copies of the symbol table.
const pool = new Map<string, string>();
const MAX_POOL = 200_000;

export function intern(text: string): string {
  const known = pool.get(text);
  if (known !== undefined) return known;
  if (pool.size >= MAX_POOL) pool.clear(); // bounded: worst case we lose sharing, never correctness
  pool.set(text, text);
  return text;
}
