import { optioErrorClass } from "@optio/host";

/** A key name given to sendKeys is not one of AGENT_KEYS; the message names it and its position. */
export class UnsupportedKeyError extends optioErrorClass("unsupported_key", "UnsupportedKeyError") {}

/**
 * The keys a consumer may press in an agent's terminal: enough to move
 * through and answer a menu or a yes/no prompt, and nothing that could type
 * a command (use sendText for text).
 */
export const AGENT_KEYS = [
  "Enter",
  "Escape",
  "Tab",
  "Up",
  "Down",
  "Left",
  "Right",
  "0",
  "1",
  "2",
  "3",
  "4",
  "5",
  "6",
  "7",
  "8",
  "9",
  "y",
  "n",
] as const;

/** A key name `sendKeys` accepts (one of `AGENT_KEYS`). */
export type AgentKey = (typeof AGENT_KEYS)[number];

const allowed: ReadonlySet<string> = new Set(AGENT_KEYS);

/** Checks every key before any is sent, so a bad list presses nothing. */
export function checkAgentKeys(keys: readonly unknown[]): AgentKey[] {
  if (!Array.isArray(keys)) throw new UnsupportedKeyError(`keys must be an array of key names, got ${typeof keys}`);
  keys.forEach((key, i) => {
    if (typeof key !== "string" || !allowed.has(key)) {
      throw new UnsupportedKeyError(
        `key ${i} (${JSON.stringify(key) ?? String(key)}) is not one of ${AGENT_KEYS.join(", ")}`,
      );
    }
  });
  return keys as AgentKey[];
}
