export type * from "./spec/agent-adapter.js";
export * from "./spec/config.js";
export type * from "./spec/browser-mode.js";
export type * from "./spec/hook-context.js";
export * from "./spec/state-store.js";
export * from "./store/state-records.js";
export * from "./store/blob-blocks.js";
export type * from "./spec/task-context.js";
export * from "./install/install-errors.js";
export * from "./install/host-platform.js";
export * from "./install/registry-package.js";
export * from "./install/vendor-script.js";
export * from "./install/version-cache.js";
export * from "./resume/resume-errors.js";
export * from "./resume/snapshot.js";
export * from "./resume/resume-log.js";
export * from "./resume/refresh.js";
export * from "./seeds/seeds.js";
export * from "./terminal/terminal-server.js";
export { CloseCode as TerminalCloseCode } from "./terminal/protocol.js";
export * from "./terminal/ttyd.js";
export * from "./terminal/ttyd-errors.js";
export * from "./spec/errors.js";
export * from "./protocol/parse-log-line.js";
export * from "./protocol/documentation.js";
export * from "./protocol/deliverables.js";
export * from "./protocol/read-agent-file.js";
export * from "./protocol/browser-shims.js";
export * from "./instructions.js";
export * from "./settle-all.js";
export * from "./store/file-state-store.js";
export * from "./terminal/tmux.js";
export * from "./install/install-agent.js";
export * from "./install/install-description.js";
export { runAgentSession, taskConsumer, type RunAgentSessionOptions } from "./session/run-agent-session.js";
export { AgentNotRunningError } from "./session/create-hook-context.js";
export { AGENT_KEYS, UnsupportedKeyError, type AgentKey } from "./spec/agent-keys.js";
export type {
  UsageCommandSource,
  UsageCounts,
  UsageFileSource,
  UsageLocation,
  UsageRecord,
  UsageReport,
  UsageSource,
  UsageTotals,
} from "./spec/usage.js";
export {
  AGENT_STATE_FILE,
  AGENT_STATE_FILE_ENV,
  type AgentState,
  type AgentStateChange,
  type AgentStateSource,
  type HookStateChange,
} from "./spec/agent-state.js";
export { CREDENTIAL_ENV_PATTERNS, isCredentialVariable } from "./session/credential-env.js";
export * from "./task/agent-task.js";
export * from "./task/run-task.js";
export * from "./cli/run-cli.js";
export { CliUsageError, type CliExtraOption, type CliOptionSpec, type CliOptionValue } from "./cli/cli-options.js";
export * from "./session/task-sessions.js";
