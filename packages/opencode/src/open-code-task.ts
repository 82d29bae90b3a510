import { createAgentTask, runAgentSession, type AgentTask, type TaskContext, type TaskOutcome } from "@optio/agents";
import type { OpenCodeTaskConfigInput } from "./config.js";
import { openCode } from "./open-code.js";

export interface OpenCodeTaskOptions {
  processId: string;
  name: string;
  description?: string;
  config: OpenCodeTaskConfigInput;
}

/** A Task that runs opencode; hand it to `runTask` or any task engine. While opencode runs, `sendText` and `readScreen` drive it. */
export function createOpenCodeTask(options: OpenCodeTaskOptions): AgentTask {
  return createAgentTask(openCode, options);
}

/** Runs one opencode session inside a caller-provided TaskContext. */
export function runOpenCodeSession(ctx: TaskContext, config: OpenCodeTaskConfigInput): Promise<TaskOutcome> {
  return runAgentSession(ctx, openCode, config);
}
