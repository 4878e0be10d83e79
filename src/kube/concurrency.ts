// Bounded parallelism for the stores' API calls: enough to overlap round trips, few enough that a
// large capture or state save never floods the API server.

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first failure. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
