import { homedir } from "node:os";
import { join } from "node:path";

/** The version the real-binary tests pin, so CI reuses ~/.cache/optio/codex instead of following `latest`. */
export const REAL_CODEX_VERSION = "0.171.0";

/** The real user's Codex dir, which a task with its own CODEX_HOME must leave alone. */
export const REAL_CODEX_DIRS = { watched: [join(homedir(), ".codex")] };

/**
 * Keeps the real Codex on 127.0.0.1: its OpenAI and ChatGPT endpoints point
 * at a closed local port, and so does a proxy for whatever else it fetches
 * on start (its announcement tip from raw.githubusercontent.com), so nothing
 * it tries leaves the machine, not even a DNS lookup; 127.0.0.1 is reached directly.
 */
export const LOCAL_ONLY = {
  apiBaseUrl: "http://127.0.0.1:9",
  codexConfigToml: 'chatgpt_base_url = "http://127.0.0.1:9/backend-api/"',
  env: { HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9", NO_PROXY: "127.0.0.1" },
} as const;
