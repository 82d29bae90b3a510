import { setTimeout as sleep } from "node:timers/promises";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import type { AgentDriver } from "../spec/hook-context.js";

/** How often the screen is read while waiting for the agent's prompt; each read spawns a tmux client. */
const PROMPT_POLL_MS = 250;
/** How long an agent may take to show its prompt by default: an SSH host under load can take a while to start a TUI. */
const PROMPT_WAIT_MS = 120_000;

/**
 * Whether the first message must be typed rather than put on the command
 * line: the agent continues a conversation and cannot take one there, but
 * says how its screen shows that it takes typed input.
 */
export function typesFirstMessage<C extends AgentTaskConfig>(
  adapter: AgentAdapter<C>,
  continueConversation: boolean,
): boolean {
  return continueConversation && adapter.firstMessageOnContinue === false && adapter.promptReady !== undefined;
}

export interface TypeFirstMessageOptions {
  /** The running agent's terminal. */
  driver: Pick<AgentDriver, "readScreen" | "sendText">;
  /** What the agent's screen shows once it takes typed input. */
  promptReady: RegExp;
  text: string;
  /** Stops the wait: the agent ended or the task was cancelled before the prompt showed. */
  signal: AbortSignal;
  /** Told when the prompt never showed, so the message was not typed. */
  onMissed: (message: string) => void;
  /** How long to wait for the prompt; two minutes unless given. */
  waitMs?: number;
}

/** Types the message and submits it once the agent's prompt shows on its screen. */
export async function typeFirstMessage(options: TypeFirstMessageOptions): Promise<void> {
  const { driver, promptReady, signal } = options;
  const waitMs = options.waitMs ?? PROMPT_WAIT_MS;
  const deadline = Date.now() + waitMs;
  while (!promptReady.test(await driver.readScreen().catch(() => ""))) {
    if (signal.aborted) return;
    if (Date.now() > deadline)
      return options.onMissed(
        `the agent's prompt did not show within ${waitMs / 1000} s; its first message was not typed`,
      );
    await sleep(PROMPT_POLL_MS, undefined, { signal }).catch(() => undefined);
  }
  if (!signal.aborted) await driver.sendText(options.text, { submit: true });
}
