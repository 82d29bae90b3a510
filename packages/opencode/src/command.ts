import { posix } from "node:path";
import type { AgentCommand, LaunchInfo } from "@optio/agents";
import type { OpenCodeTaskConfig } from "./config.js";
import { endpointEnv } from "./endpoint.js";

/**
 * opencode's environment inside an isolated HOME. It finds its data, config,
 * state and cache dirs through XDG variables and its scratch dir through
 * TMPDIR (`/tmp/opencode` otherwise, shared by every task); all point inside
 * HOME. Its self-updater stays off: the binary lives in a shared cache.
 */
/** opencode's scratch dir (TMPDIR) relative to HOME: under the regenerable `.cache`, so made again on every start. */
export const OPENCODE_TMP_DIR = ".cache/tmp";

export function openCodeEnv(home: string): Record<string, string> {
  return {
    XDG_DATA_HOME: posix.join(home, ".local/share"),
    XDG_CONFIG_HOME: posix.join(home, ".config"),
    XDG_STATE_HOME: posix.join(home, ".local/state"),
    XDG_CACHE_HOME: posix.join(home, ".cache"),
    TMPDIR: posix.join(home, OPENCODE_TMP_DIR),
    OPENCODE_DISABLE_AUTOUPDATE: "1",
  };
}

/**
 * opencode's flags: `--continue` (its last session) when continuing, else
 * `--prompt` with the first message, which the TUI submits as it opens.
 * opencode 1.18 reads `--prompt` only on its home screen, and `--continue`
 * opens the session screen instead, so a continued session cannot take a
 * first message from the command line: the session types it once the
 * adapter's `promptReady` shows.
 */
export function openCodeFlags(continueConversation: boolean, firstMessage?: string): string[] {
  if (continueConversation) return ["--continue"];
  return firstMessage !== undefined ? ["--prompt", firstMessage] : [];
}

/** The TUI, in the workdir the session starts it in. */
export function openCodeCommand(config: OpenCodeTaskConfig, launch: LaunchInfo): AgentCommand {
  return {
    argv: [launch.binaryPath, ...openCodeFlags(launch.continueConversation, launch.firstMessage)],
    env: { ...openCodeEnv(launch.home), ...(config.apiBaseUrl !== undefined && endpointEnv(config.apiBaseUrl)) },
    pathPrepend: [posix.join(launch.home, ".local/bin")],
  };
}
