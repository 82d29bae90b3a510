import { homedir } from "node:os";
import { join } from "node:path";

/** The version the real-binary tests pin, so CI reuses ~/.cache/optio/codex instead of following `latest`. */
export const REAL_CODEX_VERSION = "0.171.0";

/** The real user's Codex dir, which a task with its own CODEX_HOME must leave alone. */
export const REAL_CODEX_DIRS = { watched: [join(homedir(), ".codex")] };

/**
 * Keeps the real Codex on 127.0.0.1: its OpenAI and ChatGPT endpoints point
 * at a closed local port, so nothing it tries on start leaves the machine.
 */
export const LOCAL_ONLY = {
  apiBaseUrl: "http://127.0.0.1:9",
  codexConfigToml: 'chatgpt_base_url = "http://127.0.0.1:9/backend-api/"',
} as const;
