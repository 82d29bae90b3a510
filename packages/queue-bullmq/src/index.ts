export * from "./errors.js";
export { defineTaskKind, type AnyTaskKind, type TaskKind, type TaskKindContext } from "./task-kind.js";
export {
  connectTaskQueue,
  type SubmitOptions,
  type TaskQueue,
  type TaskQueueOptions,
  type WatchOptions,
} from "./task-queue.js";
export type { TaskInput } from "./task-input.js";
export { startWorker, type CloseWorkerOptions, type TaskWorker, type WorkerOptions } from "./worker.js";
export type {
  QueuedTask,
  QueuedTaskEvent,
  QueuedTaskOutcome,
  QueuedTaskState,
  QueueTaskEvent,
} from "./queue-records.js";
