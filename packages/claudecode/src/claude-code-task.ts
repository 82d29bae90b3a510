import { type AgentTaskOptions, adapterTasks } from "@optio/agents";
import { claudeCode } from "./claude-code.js";
import type { ClaudeCodeTaskConfigInput } from "./config.js";

/** What the task is (`processId`, `name`, `description`) and its Claude Code config. */
export type ClaudeCodeTaskOptions = AgentTaskOptions<ClaudeCodeTaskConfigInput>;

const tasks = adapterTasks<ClaudeCodeTaskConfigInput>(claudeCode);

/** A Task that runs Claude Code; hand it to `runTask` or any task engine. While Claude Code runs, `sendText` and `readScreen` drive it. */
export const createClaudeCodeTask = tasks.createTask;

/** Runs one Claude Code session inside a caller-provided TaskContext. */
export const runClaudeCodeSession = tasks.runSession;
