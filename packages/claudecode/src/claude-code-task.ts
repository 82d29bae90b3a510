import { type AgentTask, type AgentTaskOptions, createAgentTask } from "@optio/agents";
import { claudeCode } from "./claude-code.js";
import type { ClaudeCodeTaskConfigInput } from "./config.js";

/** What `createClaudeCodeTask` needs: the task's ids and its Claude Code config. */
export type ClaudeCodeTaskOptions = AgentTaskOptions<ClaudeCodeTaskConfigInput>;

/** A Task that runs Claude Code; hand it to `runTask` or any task engine. While Claude Code runs, `sendText` and `readScreen` drive it. */
export function createClaudeCodeTask(options: ClaudeCodeTaskOptions): AgentTask {
  return createAgentTask(claudeCode, options);
}
