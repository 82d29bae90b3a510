import {
  createAgentTask,
  runAgentSession,
  type AgentTask,
  type AgentTaskOptions,
  type TaskContext,
  type TaskOutcome,
} from "@optio/agents";
import { codex } from "./codex.js";
import type { CodexTaskConfigInput } from "./config.js";

export type CodexTaskOptions = AgentTaskOptions<CodexTaskConfigInput>;

/** A Task that runs Codex; hand it to `runTask` or any task engine. While Codex runs, `sendText` and `readScreen` drive it. */
export const createCodexTask = (options: CodexTaskOptions): AgentTask => createAgentTask(codex, options);

/** Runs one Codex session inside a caller-provided TaskContext. */
export const runCodexSession = (ctx: TaskContext, config: CodexTaskConfigInput): Promise<TaskOutcome> =>
  runAgentSession(ctx, codex, config);
