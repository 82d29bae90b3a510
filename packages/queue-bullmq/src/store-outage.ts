import type { StateStore } from "@optio/agents";
import { StateStoreUnavailableError } from "@optio/store-postgres";

const PROBE_MS = 500;
const MAX_PROBE_MS = 5_000;

/** The StateStoreUnavailableError behind `error`, however deep a task wrapped it; undefined when the store did not go away. */
export function storeOutageIn(error: unknown): StateStoreUnavailableError | undefined {
  for (let cause = error, depth = 0; cause !== undefined && cause !== null && depth < 8; depth++) {
    if (StateStoreUnavailableError.isInstance(cause)) return cause;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Waits until the store answers again (a read of the task's snapshots), with
 * a growing pause between tries. Resolves true once it answers, false when
 * `signal` aborts or `boundMs` passes first.
 */
export async function storeIsBack(
  store: StateStore,
  processId: string,
  signal: AbortSignal,
  boundMs: number,
): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  for (let pause = PROBE_MS; !signal.aborted && Date.now() < deadline; pause = Math.min(pause * 2, MAX_PROBE_MS)) {
    try {
      await store.latestSnapshot(processId);
      return true;
    } catch (error) {
      // Any other failure is not an outage: the task's next run meets it and reports it.
      if (!storeOutageIn(error)) return true;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(pause, Math.max(0, deadline - Date.now())));
      signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }
  return false;
}
