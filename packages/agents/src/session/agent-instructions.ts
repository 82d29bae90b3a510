import { DEFAULT_ARCHIVE_EXCLUDES } from "@optio/host";
import { composeInstructions } from "../instructions.js";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";

/** The instructions file an adapter's agent reads, for this config. */
export function instructionsFor<C extends AgentTaskConfig>(adapter: AgentAdapter<C>, config: C): string {
  return composeInstructions({
    mode: adapter.browser,
    consumerInstructions: config.consumerInstructions,
    resume: config.supportsResume ? { excludes: config.workdirExclude ?? DEFAULT_ARCHIVE_EXCLUDES } : null,
  });
}
