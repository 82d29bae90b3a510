import type { CaptureSnapshotOptions, RestoreSnapshotOptions } from "../resume/snapshot.js";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import type { TaskContext } from "../spec/task-context.js";
import type { SessionState } from "./session-state.js";

/** What saving a session's snapshot or seed shares: its host and store, the agent's id, the config's encryption. */
export function saveOptions<C extends AgentTaskConfig>(
  ctx: TaskContext,
  adapter: AgentAdapter<C>,
  state: SessionState<C>,
): Pick<CaptureSnapshotOptions, "host" | "store" | "agent" | "encrypt"> {
  return { host: state.host, store: ctx.store, agent: adapter.id, encrypt: state.config.sessionBlobEncrypt };
}

/** What restoring a snapshot or merging a seed shares: its host and store, the config's decryption and limits. */
export function restoreOptions<C extends AgentTaskConfig>(
  ctx: TaskContext,
  state: SessionState<C>,
): Pick<RestoreSnapshotOptions, "host" | "store" | "decrypt" | "limits"> {
  const { host, config } = state;
  return {
    host,
    store: ctx.store,
    decrypt: config.sessionBlobDecrypt,
    limits: { maxBytes: config.restoreMaxBytes, maxEntries: config.restoreMaxEntries },
  };
}
