import { runTask, type RunTaskOptions } from "../task/run-task.js";
import type { Task, TaskEvent, TaskOutcome } from "../spec/task-context.js";

export interface WatchedTerminal<T> {
  /** What `look` returned; undefined when no terminal was published. */
  seen: T | undefined;
  events: TaskEvent[];
  outcome: TaskOutcome;
}

/**
 * Runs `task` until it publishes its terminal, hands the terminal's URL to
 * `look` (a test opens it in a browser), then cancels the task. Whatever
 * `look` does or throws, the agent does not outlive the call: the task is
 * cancelled and its teardown awaited before this returns or rethrows.
 */
export async function watchTerminal<T>(
  task: Task,
  options: Omit<RunTaskOptions, "signal">,
  look: (url: string) => Promise<T>,
): Promise<WatchedTerminal<T>> {
  const run = runTask(task, options);
  const events: TaskEvent[] = [];
  let seen: T | undefined;
  try {
    for await (const event of run.events) {
      events.push(event);
      if (event.type === "widget" && event.widget && seen === undefined) {
        try {
          seen = await look(event.widget.url);
        } finally {
          run.cancel();
        }
      }
    }
  } finally {
    run.cancel();
    await run.outcome;
  }
  return { seen, events, outcome: await run.outcome };
}
