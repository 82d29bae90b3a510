import { posix } from "node:path";
import type { AdapterContext, AgentAdapter, AgentAdapterOptions, AgentAdapterParts } from "@optio/agents";
import { defineAgentAdapter, hasFileUnder } from "@optio/agents";
import { claudeCodeConfigSchema, type ClaudeCodeTaskConfig } from "./config.js";
import { claudeCommand } from "./command.js";
import { installClaude } from "./install.js";
import { plantClaudeHome } from "./plant.js";
import { CLAUDE_SEED_MANIFEST } from "./seed-manifest.js";
import { claudeStateSource } from "./state-hooks.js";
import { claudeUsageSource } from "./usage.js";

export const CLAUDE_CODE_ID = "claudecode";

/** Options of a Claude Code adapter. */
export type ClaudeCodeOptions = AgentAdapterOptions;

/** True when claude left a conversation transcript (`*.jsonl`) under `home/.claude/projects`. */
function hasTranscript(ctx: AdapterContext): Promise<boolean> {
  return hasFileUnder(ctx, posix.join(ctx.home, ".claude/projects"), { name: "*.jsonl" });
}

/** What Claude Code answers to the adapter contract. */
const claudeCodeParts: AgentAdapterParts<ClaudeCodeTaskConfig> = {
  id: CLAUDE_CODE_ID,
  displayName: "Claude Code",
  configSchema: claudeCodeConfigSchema,
  instructionsFile: "CLAUDE.md",
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

/** A Claude Code adapter with its own options (`claudeCode` is the default one). */
export function createClaudeCode(options: ClaudeCodeOptions = {}): AgentAdapter<ClaudeCodeTaskConfig> {
  return defineAgentAdapter(claudeCodeParts, options);
}

/** The default adapter instance; its seeds are `listSeeds(store, claudeCode.id)` of `@optio/agents`. */
export const claudeCode = createClaudeCode();
