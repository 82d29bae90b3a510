export { openCode, createOpenCode, type OpenCodeOptions } from "./open-code.js";
export { createOpenCodeTask, type OpenCodeTaskOptions } from "./open-code-task.js";
export { openCodeConfigSchema, type OpenCodeTaskConfig, type OpenCodeTaskConfigInput } from "./config.js";
