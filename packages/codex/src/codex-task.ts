import { createAgentTask, type AgentTask, type AgentTaskOptions } from "@optio/agents";
import { codex } from "./codex.js";
import type { CodexTaskConfigInput } from "./config.js";

/** What `createCodexTask` needs: the task's ids and its Codex config. */
export type CodexTaskOptions = AgentTaskOptions<CodexTaskConfigInput>;

/** A Task that runs Codex; hand it to `runTask` or any task engine. While Codex runs, `sendText` and `readScreen` drive it. */
export const createCodexTask = (options: CodexTaskOptions): AgentTask => createAgentTask(codex, options);
