import { bounded } from "./bounded.js";

/** The promise's value, or an error naming `what` once `timeoutMs` has passed: a test that waits on a host must fail, not hang. */
export function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
  return bounded(promise, timeoutMs, () => new Error(`timed out waiting for ${what}`));
}
