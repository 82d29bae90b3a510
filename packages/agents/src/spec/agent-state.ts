/**
 * What the agent is doing, as its own hooks tell it:
 * `starting → working → idle | waiting-permission | waiting-input → … → exited`.
 * `idle` is a turn that ended; `waiting-input` is a turn that ended without the
 * task being finished (no DONE or ERROR), so a person is needed.
 */
export type AgentState = "starting" | "working" | "idle" | "waiting-permission" | "waiting-input" | "exited";

/** One change of state. */
export interface AgentStateChange {
  readonly state: AgentState;
  /** Milliseconds since the epoch at which optio saw the change. */
  readonly timestamp: number;
  /** What the agent said with it: the tool waiting for permission, the notification, the turn's last words. */
  readonly message?: string;
}

/** A change the agent's hooks reported: the session adds `starting`, `exited` and the timestamp. */
export interface HookStateChange {
  readonly state: "working" | "idle" | "waiting-permission" | "waiting-input" | "exited";
  readonly message?: string;
}

/**
 * The environment variable holding the absolute path of the state file
 * the agent's hooks append to: a channel of optio's own beside optio.log,
 * so a line the agent writes into optio.log can never pass for a state.
 */
export const AGENT_STATE_FILE_ENV = "OPTIO_AGENT_STATE_FILE";

/** The state file's name, in the task dir (outside the workdir, so never in a snapshot). */
export const AGENT_STATE_FILE = "agent-state.log";

/** How an adapter's agent reports its state: its hooks append lines to `$OPTIO_AGENT_STATE_FILE`, read back by `parse`. */
export interface AgentStateSource {
  /** Which mechanism it is, for people reading events and docs: the agent's own hooks, or a screen check. */
  readonly kind: "hooks";
  /** Turns one line of the state file into a change, or null for a line that says nothing (or cannot be read). */
  parse(line: string): HookStateChange | null;
}
