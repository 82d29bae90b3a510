import { type AgentTask, type AgentTaskOptions, createAgentTask } from "@optio/agents";
import { openCode } from "./open-code.js";
import type { OpenCodeTaskConfigInput } from "./config.js";

/** What `createOpenCodeTask` needs: the task's ids and its opencode config. */
export type OpenCodeTaskOptions = AgentTaskOptions<OpenCodeTaskConfigInput>;

/** A Task that runs opencode; hand it to `runTask` or any task engine. While opencode runs, `sendText` and `readScreen` drive it. */
export function createOpenCodeTask(options: OpenCodeTaskOptions): AgentTask {
  return createAgentTask(openCode, options);
}
