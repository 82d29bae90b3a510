import { validateProcessId } from "@optio/host";
import type { AgentAdapter } from "../agent-v1.js";
import { parseAgentConfig, type AgentTaskConfig } from "../config.js";
import { runAgentSession } from "../session/run-agent-session.js";
import type { Task } from "./task-context.js";

export interface AgentTaskOptions<I> {
  processId: string;
  name: string;
  description?: string;
  /** The adapter's config input; validated here, so a bad value fails at creation. */
  config: I;
}

/** A Task that runs one session of `adapter`; any engine (or `runTask`) can run it. */
export function createAgentTask<C extends AgentTaskConfig>(adapter: AgentAdapter<C>, options: AgentTaskOptions<unknown>): Task {
  validateProcessId(options.processId);
  parseAgentConfig(adapter.configSchema, options.config);
  return {
    processId: options.processId,
    name: options.name,
    description: options.description,
    run: (ctx) => runAgentSession(ctx, adapter, options.config),
  };
}
