// The task kinds module of the real-Claude adoption test: `claude`, the real Claude Code (installed into
// $OPTIO_CLAUDE_INSTALL_DIR at $OPTIO_CLAUDE_VERSION) working against the scripted model a payload names.
import { homedir } from "node:os";
import { join } from "node:path";
import { createAgentTask } from "@optio/agents";
import { claudeCode } from "@optio/claudecode";
import * as z from "zod/mini";
import { defineTaskKind } from "../../dist/index.js";

const payload = z.object({
  /** What the agent is asked to do. */
  instructions: z.string(),
  /** The scripted model's URL on 127.0.0.1. */
  apiBaseUrl: z.string(),
});

export const kinds = [
  defineTaskKind("claude", payload, ({ instructions, apiBaseUrl }, { processId }) =>
    createAgentTask(claudeCode, {
      processId,
      name: "claude",
      config: {
        installDir: process.env.OPTIO_CLAUDE_INSTALL_DIR,
        installStrategies: ["npm-registry"],
        agentVersion: process.env.OPTIO_CLAUDE_VERSION,
        // The cache claudecode's own real-binary tests fill, so no test downloads the binary twice.
        installCacheDir: join(homedir(), ".cache/optio/claude"),
        permissionMode: "bypassPermissions",
        consumerInstructions: instructions,
        apiBaseUrl,
        env: { ANTHROPIC_API_KEY: "sk-ant-scripted-test-key-0123456789abcdef" },
        supportsResume: false,
      },
    }),
  ),
];
