import { posix } from "node:path";
import type { AdapterContext, AgentAdapter, BrowserMode } from "@optio/agents";
import { shellQuote } from "@optio/host";
import { claudeCodeConfigSchema, type ClaudeCodeTaskConfig } from "./config.js";
import { claudeCommand } from "./command.js";
import { installClaude } from "./install.js";
import { plantClaudeHome } from "./plant.js";
import { CLAUDE_SEED_MANIFEST } from "./seed-manifest.js";
import { claudeStateSource } from "./state-hooks.js";
import { claudeUsageSource } from "./usage.js";

export const CLAUDE_CODE_ID = "claudecode";

/** Options of a Claude Code adapter. */
export interface ClaudeCodeOptions {
  /** What happens when claude opens a browser (a login URL). Default `redirect`: the URL goes to the task context. */
  browser?: BrowserMode;
}

/** True when claude left a conversation transcript (`*.jsonl`) under `home/.claude/projects`. */
async function hasTranscript(ctx: AdapterContext): Promise<boolean> {
  const projects = shellQuote(posix.join(ctx.home, ".claude/projects"));
  const result = await ctx.host.runCommand(`find ${projects} -name '*.jsonl' -type f -print -quit 2>/dev/null`, {
    timeoutMs: 30_000,
  });
  return result.stdout.trim().length > 0;
}

/** A Claude Code adapter with its own options (`claudeCode` is the default one). */
export function createClaudeCode(options: ClaudeCodeOptions = {}): AgentAdapter<ClaudeCodeTaskConfig> {
  return {
    specificationVersion: "agent-v1",
    id: CLAUDE_CODE_ID,
    displayName: "Claude Code",
    configSchema: claudeCodeConfigSchema,
    instructionsFile: "CLAUDE.md",
    browser: options.browser ?? "redirect",
    install: installClaude,
    plant: plantClaudeHome,
    command: claudeCommand,
    resume: {
      privatePaths: ["home/.claude", "home/.claude.json"],
      regenerablePaths: ["home/.local/share/claude", "home/.cache", "home/.npm"],
      canContinue: hasTranscript,
    },
    seed: CLAUDE_SEED_MANIFEST,
    agentState: claudeStateSource,
    usage: claudeUsageSource,
    // "1" is "Yes" in every version seen; Escape refuses and asks what to do instead.
    permissionKeys: { approve: ["1"], deny: ["Escape"] },
  };
}

/** The default adapter instance; its seeds are `listSeeds(store, claudeCode.id)` of `@optio/agents`. */
export const claudeCode = createClaudeCode();
