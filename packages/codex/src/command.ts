import { posix } from "node:path";
import type { AgentCommand, LaunchInfo } from "@optio/agents";
import type { CodexTaskConfig } from "./config.js";

/** Codex's state dir (config, auth.json, sessions) relative to HOME; `CODEX_HOME` points there. */
export const CODEX_DIR = ".codex";

export const codexHome = (home: string): string => posix.join(home, CODEX_DIR);

/**
 * Codex's flags. `--no-daemon`: a shared background server would outlive the
 * task. A continued session is the `resume --last` subcommand, which takes a
 * first message as its prompt like a fresh start does. Config overrides
 * (`key=value`, the value TOML) go before the prompt.
 */
export function codexFlags(resume: boolean, firstMessage?: string, overrides: readonly string[] = []): string[] {
  const flags = [...(resume ? ["resume", "--last"] : []), "--no-daemon", ...overrides.flatMap((o) => ["-c", o])];
  return firstMessage !== undefined ? [...flags, firstMessage] : flags;
}

/**
 * The TUI, with its state in the task's HOME. `apiBaseUrl` names the API
 * root and OpenAI's base URL includes the version, so `/v1` is appended; it
 * goes in as `openai_base_url` on each launch (Codex 0.171 ignores
 * `OPENAI_BASE_URL`), so a resumed task reaches the endpoint its config names now.
 */
export function codexCommand(config: CodexTaskConfig, launch: LaunchInfo): AgentCommand {
  const base = config.apiBaseUrl?.replace(/\/+$/, "");
  const overrides = [
    ...(base !== undefined ? [`openai_base_url=${JSON.stringify(`${base}/v1`)}`] : []),
    ...config.codexOverrides,
  ];
  return {
    argv: [launch.binaryPath, ...codexFlags(launch.continueConversation, launch.firstMessage, overrides)],
    env: { CODEX_HOME: codexHome(launch.home) },
    pathPrepend: [posix.join(launch.home, ".local/bin")],
  };
}
