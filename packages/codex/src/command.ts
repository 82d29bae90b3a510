import { posix } from "node:path";
import type { AgentCommand, LaunchInfo } from "@optio/agents";
import type { CodexTaskConfig } from "./config.js";

/** Codex's state dir (config, auth.json, sessions) relative to HOME; `CODEX_HOME` points there. */
export const CODEX_DIR = ".codex";

export const codexHome = (home: string): string => posix.join(home, CODEX_DIR);

/**
 * Codex's flags. `--no-daemon`: a shared background server would outlive the
 * task. A continued session is the `resume --last` subcommand, which takes a
 * first message as its prompt like a fresh start does.
 */
export function codexFlags(continueConversation: boolean, firstMessage?: string): string[] {
  const flags = continueConversation ? ["resume", "--last", "--no-daemon"] : ["--no-daemon"];
  return firstMessage !== undefined ? [...flags, firstMessage] : flags;
}

/**
 * The TUI, with its state in the task's HOME. `apiBaseUrl` names the API
 * root, and OpenAI's base URL includes the version, so `/v1` is appended.
 */
export function codexCommand(config: CodexTaskConfig, launch: LaunchInfo): AgentCommand {
  const env: Record<string, string> = { CODEX_HOME: codexHome(launch.home) };
  if (config.apiBaseUrl !== undefined) env.OPENAI_BASE_URL = `${config.apiBaseUrl.replace(/\/+$/, "")}/v1`;
  return {
    argv: [launch.binaryPath, ...codexFlags(launch.continueConversation, launch.firstMessage)],
    env,
    pathPrepend: [posix.join(launch.home, ".local/bin")],
  };
}
