import type { QueueTaskEvent } from "./queue-records.js";
import type { TaskQueue } from "./task-queue.js";

/** Every event the queue shows from the call on, for tests: a way to wait for one, and to stop watching. */
export interface RecordedEvents {
  readonly events: QueueTaskEvent[];
  /** The first event, seen already or still to come, that passes `test`. */
  next(test: (e: QueueTaskEvent) => boolean): Promise<QueueTaskEvent>;
  stop(): Promise<void>;
}

export function recordEvents(queue: TaskQueue): RecordedEvents {
  const controller = new AbortController();
  const events: QueueTaskEvent[] = [];
  const waiters: { test: (e: QueueTaskEvent) => boolean; resolve: (e: QueueTaskEvent) => void }[] = [];
  const done = (async () => {
    for await (const event of queue.watch({ signal: controller.signal })) {
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.test(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    }
  })();
  return {
    events,
    next(test) {
      const seen = events.find(test);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ test, resolve }));
    },
    async stop() {
      controller.abort();
      await done;
    },
  };
}
