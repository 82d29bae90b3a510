import type { AgentTaskConfig } from "../spec/config.js";
import type { TaskContext } from "../spec/task-context.js";
import { publishAgentTerminal } from "./agent-terminal.js";
import type { SessionState } from "./session-state.js";

/**
 * Serves the agent's terminal before the agent starts: the page loads while
 * the host is readied, and its viewers wait for the tmux session. A failure
 * is reported, not thrown: the agent runs whether or not anyone can watch it.
 */
export async function serveTerminal<C extends AgentTaskConfig>(
  ctx: TaskContext,
  state: SessionState<C>,
): Promise<void> {
  try {
    state.terminal = await publishAgentTerminal(state.hook, state.tmux, state.config.terminal);
    ctx.setWidget({ kind: "iframe", url: state.terminal.url });
  } catch (error) {
    ctx.report("error", `the terminal could not be served: ${error instanceof Error ? error.message : String(error)}`);
  }
}
