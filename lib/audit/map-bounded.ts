/**
 * `work` over every item, at most `limit` at a time, results in the items' order: the store
 * calls of a batch's records (one per data key) run side by side instead of one after the
 * other, without opening thousands of requests or files at once. The first failure rejects,
 * and no item is started after it.
 *
 * @example
 * const found = await mapBounded(records, 32, (record) => keyStore.existing(stream, record));
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!, i);
      } catch (error) {
        failed = true; // the other workers take no further item
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
