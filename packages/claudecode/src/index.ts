export {
  CLAUDE_CODE_ID,
  claudeCode,
  createClaudeCode,
  deleteSeed,
  listSeeds,
  type ClaudeCodeOptions,
} from "./claude-code.js";
export { createClaudeCodeTask, runClaudeCodeSession, type ClaudeCodeTaskOptions } from "./claude-code-task.js";
export {
  claudeCodeConfigSchema,
  parseClaudeCodeConfig,
  PERMISSION_MODES,
  type ClaudeCodeTaskConfig,
  type ClaudeCodeTaskConfigInput,
  type PermissionMode,
} from "./config.js";
export { claudeFlags, claudeCommand, ROOT_SANDBOX_NOTICE } from "./command.js";
export { claudeInstall, claudePlatformPackage, claudeRegistryPackage, installClaude, probeClaude } from "./install.js";
export { plantClaudeHome, preTrusted, CLAUDE_JSON } from "./plant.js";
export { CLAUDE_SEED_MANIFEST, rekeyProjects } from "./seed-manifest.js";
export type { DeliverableCallback, HookCallback, HookContext } from "@optio/agents";
export { HostCommandError, OptioConfigError, OptioError, type SSHConfig } from "@optio/host";
