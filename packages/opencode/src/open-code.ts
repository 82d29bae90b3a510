import { posix } from "node:path";
import type { AdapterContext, AgentAdapter, AgentAdapterOptions, AgentAdapterParts } from "@optio/agents";
import { defineAgentAdapter } from "@optio/agents";
import { shellQuote } from "@optio/host";
import { OPENCODE_TMP_DIR, openCodeCommand, openCodeEnv } from "./command.js";
import { openCodeConfigSchema, type OpenCodeTaskConfig } from "./config.js";
import { installOpenCode } from "./install.js";
import { OPENCODE_CONFIG_DIR, OPENCODE_DATA_DIR, OPENCODE_STATE_DIR, plantOpenCodeHome } from "./plant.js";
import { OPENCODE_SEED_MANIFEST } from "./seed-manifest.js";
import { openCodeStateSource, plantStatePlugin } from "./state-plugin.js";
import { openCodeUsageSource } from "./usage.js";

export const OPENCODE_ID = "opencode";

/** Options of an opencode adapter. */
export type OpenCodeOptions = AgentAdapterOptions;

/**
 * True when opencode stored a session for the workdir. Sessions live in a
 * SQLite database, which even an idle start creates, so the database alone
 * proves nothing: ask the binary (linked into the task's HOME by install).
 * `--continue` without a session leaves opencode showing a server error.
 */
async function hasStoredSession(ctx: AdapterContext): Promise<boolean> {
  const { host, home } = ctx;
  if (!(await host.stat(posix.join(home, OPENCODE_DATA_DIR, "opencode.db")))) return false;
  const binary = shellQuote(posix.join(home, ".local/bin/opencode"));
  const result = await host.runCommand(`cd ${shellQuote(ctx.workdir)} && ${binary} session list --format json`, {
    env: { HOME: home, ...openCodeEnv(home) },
    timeoutMs: 60_000,
    signal: ctx.signal,
  });
  if (result.exitCode !== 0) return false;
  try {
    const sessions: unknown = JSON.parse(result.stdout);
    return Array.isArray(sessions) && sessions.length > 0;
  } catch {
    return false;
  }
}

/** What opencode answers to the adapter contract. */
const openCodeParts: AgentAdapterParts<OpenCodeTaskConfig> = {
  id: OPENCODE_ID,
  displayName: "opencode",
  configSchema: openCodeConfigSchema,
  instructionsFile: "AGENTS.md",
  install: installOpenCode,
  plant: async (ctx, config) => {
    await plantOpenCodeHome(ctx, config);
    await plantStatePlugin(ctx);
  },
  // A restore leaves out .cache, TMPDIR with it.
  prepare: (ctx) => ctx.host.mkdir(posix.join(ctx.home, OPENCODE_TMP_DIR), { mode: 0o700 }),
  command: openCodeCommand,
  firstMessageOnContinue: false,
  // The continued session's screen: its prompt box is up once the footer lists the command palette.
  promptReady: /ctrl\+p commands/,
  resume: {
    privatePaths: [`home/${OPENCODE_DATA_DIR}`, `home/${OPENCODE_CONFIG_DIR}`, `home/${OPENCODE_STATE_DIR}`],
    regenerablePaths: ["home/.cache"],
    canContinue: hasStoredSession,
  },
  seed: OPENCODE_SEED_MANIFEST,
  agentState: openCodeStateSource,
  // The prompt opens on "Allow once"; Escape picks "Reject", which ends the turn.
  permissionKeys: { approve: ["Enter"], deny: ["Escape"] },
  usage: openCodeUsageSource,
};

/** An opencode adapter with its own options (`openCode` is the default one). */
export function createOpenCode(options: OpenCodeOptions = {}): AgentAdapter<OpenCodeTaskConfig> {
  return defineAgentAdapter(openCodeParts, options);
}

/** The default adapter instance; its seeds are `listSeeds(store, openCode.id)` of `@optio/agents`. */
export const openCode = createOpenCode();
