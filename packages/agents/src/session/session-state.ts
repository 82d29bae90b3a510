import type { Host } from "@optio/host";
import type { AdapterContext } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import type { HookContext } from "../spec/hook-context.js";
import type { DeliverableQueue } from "../protocol/deliverables.js";
import type { TmuxSession } from "../terminal/tmux.js";
import type { AgentTerminal } from "./agent-terminal.js";
import type { AgentStateFollower } from "./follow-agent-state.js";
import type { UsageFollower } from "./follow-usage.js";

/** Everything one session holds while it runs; teardown reads it to know what to undo. */
export interface SessionState<C extends AgentTaskConfig> {
  config: C;
  /** What hooks' host operations are bound by; replaced for teardown so afterExecute works after a cancel. */
  operationSignal: AbortSignal;
  host: Host;
  hook: HookContext;
  adapterCtx: AdapterContext;
  tmux: TmuxSession;
  fresh: boolean;
  launched: boolean;
  terminal: AgentTerminal | null;
  deliverables: DeliverableQueue;
  agentState: AgentStateFollower;
  usage: UsageFollower;
}
