import { type AgentTaskOptions, adapterTasks } from "@optio/agents";
import { openCode } from "./open-code.js";
import type { OpenCodeTaskConfigInput } from "./config.js";

/** What the task is (`processId`, `name`, `description`) and its opencode config. */
export type OpenCodeTaskOptions = AgentTaskOptions<OpenCodeTaskConfigInput>;

const tasks = adapterTasks<OpenCodeTaskConfigInput>(openCode);

/** A Task that runs opencode; hand it to `runTask` or any task engine. While opencode runs, `sendText` and `readScreen` drive it. */
export const createOpenCodeTask = tasks.createTask;

/** Runs one opencode session inside a caller-provided TaskContext. */
export const runOpenCodeSession = tasks.runSession;
