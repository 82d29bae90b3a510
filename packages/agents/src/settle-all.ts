/**
 * Like Promise.all, but fails only once every step has settled, so nothing
 * is still writing to the host when a failure leads to teardown. The first
 * failure in the list's order is the one thrown.
 */
export async function settleAll<T extends readonly unknown[]>(
  steps: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
