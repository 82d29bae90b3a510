import type { TaskEvent } from "../spec/task-context.js";

/** Every event of a task run as it arrives, with waits for the one a test needs next. */
export interface TaskEventLog {
  readonly events: readonly TaskEvent[];
  /** Pass as runTask's onEvent. */
  readonly onEvent: (event: TaskEvent) => void;
  /** The first event (from `from` on) that matches; rejects after timeoutMs. Resolves with the event and its index. */
  waitFor(
    match: (event: TaskEvent) => boolean,
    options?: { from?: number; timeoutMs?: number },
  ): Promise<{ event: TaskEvent; index: number }>;
}

export function taskEventLog(): TaskEventLog {
  const events: TaskEvent[] = [];
  const waiters = new Set<() => void>();
  return {
    events,
    onEvent: (event) => {
      events.push(event);
      for (const wake of [...waiters]) wake();
    },
    waitFor(match, options = {}) {
      const from = options.from ?? 0;
      const timeoutMs = options.timeoutMs ?? 120_000;
      return new Promise((resolve, reject) => {
        const check = () => {
          const index = events.findIndex((event, i) => i >= from && match(event));
          if (index < 0) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve({ event: events[index]!, index });
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`no matching event within ${timeoutMs} ms; the last ones: ${JSON.stringify(events.slice(-6))}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
