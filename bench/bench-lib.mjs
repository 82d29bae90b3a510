// What several benches share: percentiles and a bound on how long a step may take.

/** The p-th percentile (nearest rank) of the values. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The promise's value, or an error naming `what` once `boundMs` has passed without one. */
export async function withBound(what, promise, boundMs) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`bench: ${what} took over ${boundMs} ms`)), boundMs)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
