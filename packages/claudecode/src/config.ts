import { defineAgentConfigSchema, parseAgentConfig } from "@optio/agents";
import { z } from "zod";

/** The modes `claude --permission-mode` accepts (2.1.x); `default` is its alias for the normal mode. */
export const PERMISSION_MODES = ["default", "plan", "acceptEdits", "bypassPermissions", "auto", "manual", "dontAsk"] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

/** Install strategies, tried in the order given until one yields a working `claude`. */
export const INSTALL_STRATEGIES = ["vendor-script", "npm-registry"] as const;
export type InstallStrategy = (typeof INSTALL_STRATEGIES)[number];

const jsonObject = z.record(z.string(), z.unknown());
const hostDir = () => z.string().refine((p) => p.startsWith("/") || p === "~" || p.startsWith("~/"), "must start with / or ~");

export const claudeCodeConfigSchema = defineAgentConfigSchema({
  /** Claude's login: an object is written as JSON, a string or bytes verbatim, to `home/.claude/.credentials.json` (mode 0600). */
  credentialsJson: z.union([jsonObject, z.string(), z.instanceof(Uint8Array)]).optional(),
  /** Written as `home/.claude/settings.json`, replacing any there. */
  claudeConfig: jsonObject.optional(),
  /** Passed as `--permission-mode`; unset leaves claude's own default. */
  permissionMode: z.enum(PERMISSION_MODES).optional(),
  /** Passed comma-joined as `--allowed-tools`; empty passes nothing. */
  allowedTools: z.array(z.string().min(1)).default([]),
  /** Passed comma-joined as `--disallowed-tools`; empty passes nothing. */
  disallowedTools: z.array(z.string().min(1)).default([]),
  /** Where `claude` lives or is linked on the host; absolute or `~/…`. The shared `installDir`, when set, wins. */
  claudeInstallDir: hostDir()
    .default("~/.local/bin"),
  /** Install strategies in the order they are tried. */
  installStrategies: z.array(z.enum(INSTALL_STRATEGIES)).min(1).default(["vendor-script", "npm-registry"]),
  /** The vendor install script (fetched and run on the host). */
  vendorScriptUrl: z.string().url().default("https://claude.ai/install.sh"),
  /** Pin the npm-registry strategy to this version; default the registry's latest. */
  claudeVersion: z.string().min(1).optional(),
  /** Host dir of the shared binary cache (`<dir>/<version>/claude`); absolute or `~/…`, default `~/.cache/optio/claude`. */
  claudeCacheDir: hostDir()
    .optional(),
  /** The npm registry the worker fetches the platform package from. */
  registry: z.string().url().default("https://registry.npmjs.org"),
});

export type ClaudeCodeTaskConfig = z.infer<typeof claudeCodeConfigSchema>;
export type ClaudeCodeTaskConfigInput = z.input<typeof claudeCodeConfigSchema>;

/** Validates a config; the OptioConfigError names every field that is wrong. */
export function parseClaudeCodeConfig(input: unknown): ClaudeCodeTaskConfig {
  return parseAgentConfig(claudeCodeConfigSchema, input);
}
