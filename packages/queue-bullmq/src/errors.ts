import { optioErrorClass } from "@optio/host";

/** Redis could not be reached or dropped the connection; nothing was queued, and the call can be repeated once it is back. */
export class QueueUnavailableError extends optioErrorClass("queue_unavailable", "QueueUnavailableError") {}
/** A task payload failed its kind's schema; the message names the field. */
export class TaskPayloadError extends optioErrorClass("task_payload_invalid", "TaskPayloadError") {}
/** No task kind of that name is registered here. */
export class UnknownTaskKindError extends optioErrorClass("unknown_task_kind", "UnknownTaskKindError") {}
/** A task with that processId is already queued, running or recorded. */
export class TaskExistsError extends optioErrorClass("task_exists", "TaskExistsError") {}
/** No task with that processId is queued, running or recorded. */
export class TaskNotFoundError extends optioErrorClass("task_not_found", "TaskNotFoundError") {}
/** The task is not running (queued, or ended), so nothing can be typed into it or asked of its agent now. */
export class TaskNotRunningError extends optioErrorClass("task_not_running", "TaskNotRunningError") {}
/** Input for a running task was refused: not input its agent takes, refused by the agent, or no worker answered. */
export class TaskInputError extends optioErrorClass("task_input_refused", "TaskInputError") {}
/** The task cannot be resumed now: it is queued or running, not ended. */
export class TaskResumeError extends optioErrorClass("task_not_resumable", "TaskResumeError") {}
