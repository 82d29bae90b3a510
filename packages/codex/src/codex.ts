import { posix } from "node:path";
import type { AdapterContext, AgentAdapter, BrowserMode } from "@optio/agents";
import { shellQuote } from "@optio/host";
import { CODEX_DIR, codexCommand } from "./command.js";
import { codexConfigSchema, type CodexTaskConfig } from "./config.js";
import { installCodex } from "./install.js";
import { AUTH_JSON, plantCodexHome } from "./plant.js";

export const CODEX_ID = "codex";

/** Options of a Codex adapter. */
export interface CodexOptions {
  /** What happens when Codex opens a browser (its ChatGPT login). Default `redirect`: the URL goes to the task context. */
  browser?: BrowserMode;
}

/**
 * True when Codex recorded a conversation turn: a `sessions/…/rollout-*.jsonl`
 * holding a user message. `resume --last` without one opens an empty picker instead.
 */
async function hasRecordedTurn(ctx: AdapterContext): Promise<boolean> {
  const sessions = shellQuote(posix.join(ctx.home, CODEX_DIR, "sessions"));
  const rollouts = `find ${sessions} -type f -name 'rollout-*.jsonl' -exec grep -lF '"type":"UserMessage"' {} +`;
  const result = await ctx.host.runCommand(`[ -d ${sessions} ] && ${rollouts} | head -n 1`, {
    timeoutMs: 30_000,
    signal: ctx.signal,
  });
  return result.stdout.trim().length > 0;
}

/** A Codex adapter with its own options (`codex` is the default one). */
export function createCodex(options: CodexOptions = {}): AgentAdapter<CodexTaskConfig> {
  return {
    specificationVersion: "agent-v1",
    id: CODEX_ID,
    displayName: "Codex",
    configSchema: codexConfigSchema,
    instructionsFile: "AGENTS.md",
    browser: options.browser ?? "redirect",
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
}

/** The default adapter instance; its seeds are `listSeeds(store, codex.id)` of `@optio/agents`. */
export const codex = createCodex();
