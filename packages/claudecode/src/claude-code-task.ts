import { createAgentTask, type AgentTask } from "@optio/agents";
import { claudeCode } from "./claude-code.js";
import type { ClaudeCodeTaskConfigInput } from "./config.js";

/** What `createClaudeCodeTask` needs: the task's ids and its Claude Code config. */
export interface ClaudeCodeTaskOptions {
  processId: string;
  name: string;
  description?: string;
  config: ClaudeCodeTaskConfigInput;
}

/** A Task that runs Claude Code; hand it to `runTask` or any task engine. While Claude Code runs, `sendText` and `readScreen` drive it. */
export function createClaudeCodeTask(options: ClaudeCodeTaskOptions): AgentTask {
  return createAgentTask(claudeCode, options);
}
