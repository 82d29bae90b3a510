export { CODEX_ID, codex, createCodex, type CodexOptions } from "./codex.js";
export { createCodexTask, runCodexSession, type CodexTaskOptions } from "./codex-task.js";
export { codexConfigSchema, parseCodexConfig, type CodexTaskConfig, type CodexTaskConfigInput } from "./config.js";
export { CODEX_DIR, codexCommand, codexFlags, codexHome } from "./command.js";
export { codexInstall, codexRegistryPackage, codexTarget, installCodex, probeCodex } from "./install.js";
export { AUTH_JSON, CONFIG_TOML, codexConfigToml, plantCodexHome } from "./plant.js";
export type { DeliverableCallback, HookCallback, HookContext } from "@optio/agents";
export { HostCommandError, OptioConfigError, OptioError, type SSHConfig } from "@optio/host";
