export { OPENCODE_ID, openCode, createOpenCode, deleteSeed, listSeeds, type OpenCodeOptions } from "./open-code.js";
export { createOpenCodeTask, runOpenCodeSession, type OpenCodeTaskOptions } from "./open-code-task.js";
export {
  openCodeConfigSchema,
  parseOpenCodeConfig,
  type OpenCodeTaskConfig,
  type OpenCodeTaskConfigInput,
} from "./config.js";
export { openCodeCommand, openCodeEnv, openCodeFlags } from "./command.js";
export {
  installOpenCode,
  openCodeInstall,
  openCodePlatformPackage,
  openCodeRegistryPackage,
  probeOpenCode,
} from "./install.js";
export { AUTH_JSON, OPENCODE_CONFIG_DIR, OPENCODE_DATA_DIR, OPENCODE_STATE_DIR, plantOpenCodeHome } from "./plant.js";
export { OPENCODE_SEED_MANIFEST } from "./seed-manifest.js";
export type { DeliverableCallback, HookCallback, HookContext } from "@optio/agents";
export { HostCommandError, OptioConfigError, OptioError, type SSHConfig } from "@optio/host";
