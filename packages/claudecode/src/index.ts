export { claudeCode, createClaudeCode, type ClaudeCodeOptions } from "./claude-code.js";
export { createClaudeCodeTask, type ClaudeCodeTaskOptions } from "./claude-code-task.js";
export {
  claudeCodeConfigSchema,
  type ClaudeCodeTaskConfig,
  type ClaudeCodeTaskConfigInput,
  type PermissionMode,
} from "./config.js";
