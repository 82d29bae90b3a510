import { optioErrorClass } from "@optio/host";

/** A StateStore has no blob, snapshot or seed with the id asked for. */
export class StateNotFoundError extends optioErrorClass("state_not_found", "StateNotFoundError") {}
/** An id handed to a StateStore is not made of `[A-Za-z0-9_-]`, so it could not safely name a file. */
export class InvalidStateIdError extends optioErrorClass("state_id_invalid", "InvalidStateIdError") {}
/** A StateStore could not write (permissions, full disk, a failing source stream); what was there before is untouched. */
export class StateWriteError extends optioErrorClass("state_write_failed", "StateWriteError") {}
/** A StateStore record on disk could not be read back (corrupt JSON, wrong shape). */
export class StateCorruptError extends optioErrorClass("state_corrupt", "StateCorruptError") {}
/** A record handed to a StateStore is malformed (a missing field, an unparsable date); the message names the field. */
export class InvalidStateRecordError extends optioErrorClass("state_record_invalid", "InvalidStateRecordError") {}
/**
 * The reason a task's signal is aborted with when its engine lets it go
 * without ending it (another engine took the task over): the agent keeps
 * running, unrecorded here, for that engine to adopt.
 */
export class TaskReleasedError extends optioErrorClass("task_released", "TaskReleasedError") {}
