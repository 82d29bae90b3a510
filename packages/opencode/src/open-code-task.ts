import { createAgentTask, type AgentTask } from "@optio/agents";
import type { OpenCodeTaskConfigInput } from "./config.js";
import { openCode } from "./open-code.js";

/** What `createOpenCodeTask` needs: the task's ids and its opencode config. */
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
