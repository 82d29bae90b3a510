import { posix } from "node:path";
import type { AgentCommand, LaunchInfo } from "@optio/agents";
import type { ClaudeCodeTaskConfig } from "./config.js";
import { NO_AUTOUPDATE_ENV } from "./install.js";
import { claudeSessionId } from "./usage.js";

/** claude's flags for a config: empty lists emit nothing; `--continue` only when continuing, and last. */
export function claudeFlags(
  config: Pick<ClaudeCodeTaskConfig, "permissionMode" | "allowedTools" | "disallowedTools">,
  continueConversation: boolean,
): string[] {
  const flags: string[] = [];
  if (config.permissionMode) flags.push("--permission-mode", config.permissionMode);
  if (config.allowedTools.length > 0) flags.push("--allowed-tools", config.allowedTools.join(","));
  if (config.disallowedTools.length > 0) flags.push("--disallowed-tools", config.disallowedTools.join(","));
  if (continueConversation) flags.push("--continue");
  return flags;
}

export const ROOT_SANDBOX_NOTICE =
  "claude runs as root with bypassPermissions, which it refuses unless IS_SANDBOX=1; IS_SANDBOX=1 was set because this config asked for bypassPermissions";

export function claudeCommand(config: ClaudeCodeTaskConfig, launch: LaunchInfo): AgentCommand {
  const env: Record<string, string> = {
    // Without it claude finds its config through the passwd entry, not $HOME.
    CLAUDE_CONFIG_DIR: posix.join(launch.home, ".claude"),
    ...NO_AUTOUPDATE_ENV,
  };
  if (config.apiBaseUrl !== undefined) {
    env.ANTHROPIC_BASE_URL = config.apiBaseUrl;
    // A gateway or stand-in serves the model only: no telemetry, update checks or other calls home.
    env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1";
  }
  const notices: string[] = [];
  if (launch.asRoot && config.permissionMode === "bypassPermissions") {
    env.IS_SANDBOX = "1";
    notices.push(ROOT_SANDBOX_NOTICE);
  }
  return {
    // `--` ends the options: the tool-list flags take several values and would swallow the prompt.
    // A new conversation gets the workdir's session id, which `--continue` keeps: the transcript's path is known.
    argv: [
      launch.binaryPath,
      ...(launch.continueConversation ? [] : ["--session-id", claudeSessionId(launch.workdir)]),
      ...claudeFlags(config, launch.continueConversation),
      ...(launch.firstMessage !== undefined ? ["--", launch.firstMessage] : []),
    ],
    env,
    pathPrepend: [posix.join(launch.home, ".local/bin")],
    notices,
  };
}
