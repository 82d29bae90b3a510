import { validateProcessId } from "@optio/host";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import { parseAgentConfig, type AgentTaskConfig } from "../spec/config.js";
import { checkAgentKeys } from "../spec/agent-keys.js";
import { AgentNotRunningError } from "../session/create-hook-context.js";
import type { AgentDriver } from "../spec/hook-context.js";
import { runParsedAgentSession } from "../session/run-agent-session.js";
import { parsePrivatePaths } from "../resume/private-patterns.js";
import type { Task } from "../spec/task-context.js";

/** What `createAgentTask` needs: the task's ids and the adapter's config input. */
export interface AgentTaskOptions<I> {
  processId: string;
  name: string;
  description?: string;
  /** The adapter's config input; parsed here, once, so a bad value fails at creation. */
  config: I;
}

/**
 * A Task that runs one session of an agent. While the agent runs, the task
 * itself types into its terminal and reads its screen; at any other time
 * both throw AgentNotRunningError.
 */
export interface AgentTask extends Task, AgentDriver {}

/** A Task that runs one session of `adapter`; any engine (or `runTask`) can run it. */
export function createAgentTask<C extends AgentTaskConfig>(
  adapter: AgentAdapter<C>,
  options: AgentTaskOptions<unknown>,
): AgentTask {
  validateProcessId(options.processId);
  // A bad resume path fails here, at creation, rather than when the first snapshot is taken.
  parsePrivatePaths(adapter.resume.privatePaths, adapter.resume.regenerablePaths);
  const config = parseAgentConfig(adapter.configSchema, options.config);
  let running: AgentDriver | null = null;
  const driver = (): AgentDriver => {
    if (!running) throw new AgentNotRunningError(`the agent of task ${options.processId} is not running`);
    return running;
  };
  return {
    processId: options.processId,
    name: options.name,
    description: options.description,
    run: (ctx) =>
      runParsedAgentSession(ctx, adapter, config, {
        onAgentRunning: (next) => {
          running = next;
        },
      }),
    sendText: async (text, send) => driver().sendText(text, send),
    sendKeys: async (keys) => {
      checkAgentKeys(keys);
      return driver().sendKeys(keys);
    },
    readScreen: async () => driver().readScreen(),
  };
}
