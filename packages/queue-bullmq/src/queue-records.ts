import type { ReportLevel, TaskEvent, TaskOutcome, UsageTotals } from "@optio/agents";

/** The outcome as it travels through Redis: a failure's `error` object stays on the worker, its message travels, and so does the usage. */
export type QueuedTaskOutcome = (
  | { status: "done"; summary?: string }
  | { status: "failed"; message: string }
  | { status: "cancelled" }
) & { usage?: UsageTotals };

/** A TaskEvent as it travels through Redis (JSON). */
export type QueuedTaskEvent = Exclude<TaskEvent, { type: "outcome" }> | { type: "outcome"; outcome: QueuedTaskOutcome };

export type QueuedTaskState = "waiting" | "running" | "done" | "failed" | "cancelled";

/** One task as `listTasks` sees it, from any process. */
export interface QueuedTask {
  readonly processId: string;
  readonly kind: string;
  readonly state: QueuedTaskState;
  /** The worker running it, or the last one that did. */
  readonly worker?: string;
  /** The terminal page of its agent while one is published. */
  readonly widgetUrl?: string;
  /** The latest progress report. */
  readonly progress?: { percent: number | null; message?: string };
  /** How many times a worker has started it (more than one after a worker died or handed it over). */
  readonly runs: number;
  readonly cancelRequested: boolean;
  /** Its latest reports (at most REPORTS_KEPT), oldest first, so a client that starts late sees what was said. */
  readonly reports: readonly { level: ReportLevel; message: string }[];
  readonly outcome?: QueuedTaskOutcome;
  readonly submittedAt: string;
}

/** What a watcher sees: a worker took the task, the task reported something, or it ended. */
export type QueueTaskEvent =
  | { processId: string; type: "started"; worker: string; run: number }
  | { processId: string; type: "task"; event: QueuedTaskEvent }
  | { processId: string; type: "outcome"; outcome: QueuedTaskOutcome };

export interface JobData {
  kind: string;
  payload: unknown;
}

export function queuedOutcome(outcome: TaskOutcome): QueuedTaskOutcome {
  const usage = outcome.usage && { usage: outcome.usage };
  if (outcome.status === "failed") return { status: "failed", message: outcome.message, ...usage };
  if (outcome.status === "done")
    return { status: "done", ...(outcome.summary !== undefined && { summary: outcome.summary }), ...usage };
  return { status: "cancelled", ...usage };
}

export function queuedEvent(event: TaskEvent): QueuedTaskEvent {
  return event.type === "outcome" ? { type: "outcome", outcome: queuedOutcome(event.outcome) } : event;
}

/** Redis keys beside BullMQ's own, under the same prefix. */
export function taskKey(prefix: string, queueName: string, processId: string): string {
  return `${prefix}:${queueName}:optio-task:${processId}`;
}

/** How many of a task's latest reports the queue keeps. */
export const REPORTS_KEPT = 100;

/** The Redis list of a task's latest reports. */
export function reportsKey(prefix: string, queueName: string, processId: string): string {
  return `${taskKey(prefix, queueName, processId)}:reports`;
}

/** The Redis channel a cancel is published on, so the owning worker stops the task at once. */
export function cancelChannel(prefix: string, queueName: string): string {
  return `${prefix}:${queueName}:optio-cancel`;
}

/** Fields of the task hash. */
export const FIELD = {
  worker: "worker",
  widget: "widget",
  progress: "progress",
  runs: "runs",
  cancel: "cancel",
} as const;

/** A QueueTaskEvent as a worker publishes it: the processId is the job's id. */
export type QueueTaskMessage = QueueTaskEvent extends infer E
  ? E extends QueueTaskEvent
    ? Omit<E, "processId">
    : never
  : never;
