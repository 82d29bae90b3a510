// `@optio/agents/cli`: the command-line runner an adapter's bin calls, and the task sessions it lists and ends.
export { runCli, type RunCliOptions } from "./cli/run-cli.js";
export type { CliIo } from "./cli/cli-io.js";
export { CliUsageError, type CliExtraOption, type CliOptionSpec, type CliOptionValue } from "./cli/cli-options.js";
export {
  endTaskSession,
  listTaskSessions,
  type TaskSessionInfo,
  type TaskSessionsOptions,
} from "./session/task-sessions.js";
