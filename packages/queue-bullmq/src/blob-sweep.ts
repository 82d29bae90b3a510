import type { StateStore } from "@optio/agents";

export interface BlobSweeper {
  /** No sweep starts after this; resolves once a sweep in progress has ended. */
  stop(): Promise<void>;
}

/**
 * Runs `store.sweepBlobs` now and every `everyMs` (never when 0), so blobs a
 * worker killed between a blob and its record left behind are deleted
 * without anyone scheduling it. Every worker may do this: a blob deleted
 * twice is deleted once. A failed sweep (the store away) goes to `onError`
 * and the next one tries again.
 */
export function startBlobSweeper(
  store: StateStore,
  { everyMs, graceMs }: { everyMs: number; graceMs: number },
  onError: (error: Error) => void,
): BlobSweeper {
  if (everyMs === 0) return { stop: async () => {} };
  let sweeping: Promise<void> = Promise.resolve();
  const sweep = () => {
    sweeping = store.sweepBlobs({ graceMs }).then(
      () => undefined,
      (error: unknown) => onError(error instanceof Error ? error : new Error(String(error))),
    );
  };
  sweep();
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      return sweeping;
    },
  };
}
