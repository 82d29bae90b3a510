import { createAgentTask, runAgentSession, type AgentTask, type TaskContext, type TaskOutcome } from "@optio/agents";
import { claudeCode } from "./claude-code.js";
import type { ClaudeCodeTaskConfigInput } from "./config.js";

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

/** Runs one Claude Code session inside a caller-provided TaskContext. */
export function runClaudeCodeSession(ctx: TaskContext, config: ClaudeCodeTaskConfigInput): Promise<TaskOutcome> {
  return runAgentSession(ctx, claudeCode, config);
}
