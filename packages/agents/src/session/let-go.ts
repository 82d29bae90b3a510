import type { Host } from "@optio/host";
import type { AgentTaskConfig } from "../spec/config.js";
import { TaskReleasedError } from "../spec/errors.js";
import type { TaskContext } from "../spec/task-context.js";
import type { SessionState } from "./session-state.js";

/** True once the engine let the task go (another engine took it over) rather than cancelled it. */
export function isReleased(ctx: TaskContext): boolean {
  return TaskReleasedError.isInstance(ctx.signal.reason);
}

/**
 * Leaves a released task's agent to the engine that took the task over, as a
 * worker that died would: the followers and the terminal stop and the host
 * connection closes, while the tmux session, the task dir and the session
 * record stay as they are for that engine to adopt. Nothing is snapshotted,
 * delivered or removed, as that is the adopter's to do now. Throws the release.
 */
export async function letGo<C extends AgentTaskConfig>(
  ctx: TaskContext,
  host: Host,
  state: SessionState<C> | null,
): Promise<never> {
  if (state)
    await Promise.all([
      state.agentState.release(),
      state.usage.release(),
      state.terminal?.close().catch(() => undefined),
    ]);
  await host.disconnect().catch(() => undefined);
  throw ctx.signal.reason;
}
