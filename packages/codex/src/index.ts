export { codex, createCodex, type CodexOptions } from "./codex.js";
export { createCodexTask, type CodexTaskOptions } from "./codex-task.js";
export { codexConfigSchema, type CodexTaskConfig, type CodexTaskConfigInput } from "./config.js";
