import { posix } from "node:path";
import { shellQuote } from "@optio/host";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import { defineAgentConfigSchema, type AgentTaskConfig } from "../spec/config.js";
import { AgentNotInstalledError } from "../install/install-errors.js";
import { expandHostPath } from "../install/version-cache.js";
import type { BrowserMode } from "../spec/browser-mode.js";
import { scriptedAgentScript } from "./scripted-agent.js";

export interface ScriptedAdapterOptions {
  id?: string;
  displayName?: string;
  browser?: BrowserMode;
  versionOutput?: string;
}

export const SCRIPTED_BINARY = "scripted-agent";

/**
 * An adapter around the scripted stand-in agent: the smallest complete
 * AgentAdapter, for protocol tests and as a model for adapter authors.
 */
export function createScriptedAdapter(options: ScriptedAdapterOptions = {}): AgentAdapter<AgentTaskConfig> {
  const versionOutput = options.versionOutput ?? "scripted-agent 1.0.0";
  return {
    specificationVersion: "agent-v1",
    id: options.id ?? "scripted",
    displayName: options.displayName ?? "Scripted agent",
    configSchema: defineAgentConfigSchema({}),
    instructionsFile: "AGENTS.md",
    browser: options.browser ?? "redirect",
    async install(ctx, config) {
      const dir = config.installDir
        ? await expandHostPath(ctx.host, config.installDir)
        : posix.join(ctx.host.taskDir, "bin");
      const binaryPath = posix.join(dir, SCRIPTED_BINARY);
      const probe = await ctx.host.runCommand(`${shellQuote(binaryPath)} --version`);
      if (probe.exitCode === 0 && probe.stdout.trim() === versionOutput) return { binaryPath, version: versionOutput };
      if (!config.installIfMissing)
        throw new AgentNotInstalledError(`${binaryPath} is missing and installIfMissing is false`);
      await ctx.host.putFile(binaryPath, Buffer.from(scriptedAgentScript({ versionOutput })), { mode: 0o755 });
      return { binaryPath, version: versionOutput };
    },
    async plant(ctx) {
      await ctx.host.writeText(posix.join(ctx.home, ".scripted", "planted"), "planted\n", { mode: 0o600 });
    },
    command(_config, launch) {
      const message = launch.firstMessage !== undefined ? ["--message", launch.firstMessage] : [];
      return { argv: [launch.binaryPath, ...(launch.continueConversation ? ["--continue"] : []), ...message], env: {} };
    },
    resume: {
      privatePaths: ["home/.scripted"],
      regenerablePaths: ["home/.cache"],
      async canContinue(ctx) {
        return (await ctx.host.stat(posix.join(ctx.home, ".scripted", "conversation")))?.type === "file";
      },
    },
    seed: { include: ["home/.scripted/planted"] },
  };
}
