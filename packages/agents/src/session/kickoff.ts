import type { AgentTaskConfig } from "../spec/config.js";
import { PROTOCOL_LOG_FILE } from "../protocol/documentation.js";

/** The kickoff a fresh session starts with when the config gives none. */
export function defaultKickoffPrompt(instructionsFile: string): string {
  return `Read ${instructionsFile} and carry out the task it describes, reporting in ${PROTOCOL_LOG_FILE} as it explains.`;
}

/** The notice a resumed session that continues its conversation starts with when the config gives none. */
export function defaultResumePrompt(instructionsFile: string): string {
  return `You were interrupted. Continue the task from ${instructionsFile} where you stopped; check the workdir for what is already done.`;
}

/** Whether the agent starts on its own: the config's `autoStart`, or when unset, whether there are instructions to act on. */
export function startsByItself(config: Pick<AgentTaskConfig, "autoStart" | "consumerInstructions">): boolean {
  return config.autoStart ?? config.consumerInstructions.trim().length > 0;
}

export interface FirstMessageSituation {
  /** A fresh start, not a restored snapshot. */
  fresh: boolean;
  /** A restored snapshot whose conversation the agent continues. */
  continueConversation: boolean;
  instructionsFile: string;
}

/**
 * What the agent is told as it launches: a fresh start gets the kickoff, a
 * resume that continues a transcript gets the resume notice (never the
 * kickoff again), a resume without one gets nothing; nothing either when the
 * agent does not start by itself.
 */
export function firstMessageFor(
  config: Pick<AgentTaskConfig, "autoStart" | "consumerInstructions" | "kickoffPrompt" | "resumePrompt">,
  situation: FirstMessageSituation,
): string | undefined {
  if (!startsByItself(config)) return undefined;
  if (situation.fresh) return config.kickoffPrompt ?? defaultKickoffPrompt(situation.instructionsFile);
  if (situation.continueConversation) return config.resumePrompt ?? defaultResumePrompt(situation.instructionsFile);
  return undefined;
}
