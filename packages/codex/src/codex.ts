import { posix } from "node:path";
import type { AdapterContext, AgentAdapter, AgentAdapterOptions, AgentAdapterParts } from "@optio/agents";
import { defineAgentAdapter, hasFileUnder } from "@optio/agents";
import { CODEX_DIR, codexCommand } from "./command.js";
import { codexConfigSchema, type CodexTaskConfig } from "./config.js";
import { installCodex } from "./install.js";
import { AUTH_JSON, plantCodexHome } from "./plant.js";

export const CODEX_ID = "codex";

/** Options of a Codex adapter. */
export type CodexOptions = AgentAdapterOptions;

/**
 * True when Codex recorded a conversation turn: a `sessions/…/rollout-*.jsonl`
 * holding a user message. `resume --last` without one opens an empty picker instead.
 */
function hasRecordedTurn(ctx: AdapterContext): Promise<boolean> {
  return hasFileUnder(ctx, posix.join(ctx.home, CODEX_DIR, "sessions"), {
    name: "rollout-*.jsonl",
    containing: '"type":"UserMessage"',
  });
}

/** What Codex answers to the adapter contract. */
const codexParts: AgentAdapterParts<CodexTaskConfig> = {
  id: CODEX_ID,
  displayName: "Codex",
  configSchema: codexConfigSchema,
  instructionsFile: "AGENTS.md",
  install: installCodex,
  plant: plantCodexHome,
  command: codexCommand,
  resume: {
    privatePaths: [`home/${CODEX_DIR}`],
    // Codex links its helper binaries under tmp/ by absolute path and stages plugins in .tmp/; it makes both again on every start.
    regenerablePaths: [`home/${CODEX_DIR}/tmp`, `home/${CODEX_DIR}/.tmp`],
    canContinue: hasRecordedTurn,
  },
  // The login only: config.toml names the workdir it trusts.
  seed: { include: [`home/${AUTH_JSON}`] },
};

/** A Codex adapter with its own options (`codex` is the default one). */
export function createCodex(options: CodexOptions = {}): AgentAdapter<CodexTaskConfig> {
  return defineAgentAdapter(codexParts, options);
}

/** The default adapter instance; its seeds are `listSeeds(store, codex.id)` of `@optio/agents`. */
export const codex = createCodex();
