import { defineAgentConfigSchema, hostDirSchema, parseAgentConfig } from "@optio/agents";
import * as z from "zod/mini";

/** The modes `claude --permission-mode` accepts (2.1.x); `default` is its alias for the normal mode. */
export const PERMISSION_MODES = ["default", "plan", "acceptEdits", "bypassPermissions", "auto", "manual", "dontAsk"] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

/** Install strategies, tried in the order given until one yields a working `claude`. */
export const INSTALL_STRATEGIES = ["vendor-script", "npm-registry"] as const;
export type InstallStrategy = (typeof INSTALL_STRATEGIES)[number];

const jsonObject = z.record(z.string(), z.unknown());

export const claudeCodeConfigSchema = defineAgentConfigSchema({
  /** Claude's login: an object is written as JSON, a string or bytes verbatim, to `home/.claude/.credentials.json` (mode 0600). */
  credentialsJson: z.optional(z.union([jsonObject, z.string(), z.instanceof(Uint8Array)])),
  /** Written as `home/.claude/settings.json`, replacing any there; optio adds its state hooks after any `hooks` in it. */
  claudeConfig: z.optional(jsonObject),
  /** Passed as `--permission-mode`; unset leaves claude's own default. */
  permissionMode: z.optional(z.enum(PERMISSION_MODES)),
  /** Passed comma-joined as `--allowed-tools`; empty passes nothing. */
  allowedTools: z._default(z.array(z.string().check(z.minLength(1))), []),
  /** Passed comma-joined as `--disallowed-tools`; empty passes nothing. */
  disallowedTools: z._default(z.array(z.string().check(z.minLength(1))), []),
  /** Where `claude` lives or is linked on the host; absolute or `~/…`. The shared `installDir`, when set, wins. */
  claudeInstallDir: z._default(hostDirSchema(), "~/.local/bin"),
  /** Install strategies in the order they are tried. */
  installStrategies: z._default(z.array(z.enum(INSTALL_STRATEGIES)).check(z.minLength(1)), ["vendor-script", "npm-registry"]),
  /** The vendor install script (fetched and run on the host). */
  vendorScriptUrl: z._default(z.url(), "https://claude.ai/install.sh"),
  /** Pin the npm-registry strategy to this version; default the registry's latest. */
  claudeVersion: z.optional(z.string().check(z.minLength(1))),
  /** Host dir of the shared binary cache (`<dir>/<version>/claude`); absolute or `~/…`, default `~/.cache/optio/claude`. */
  claudeCacheDir: z.optional(hostDirSchema()),
  /** The npm registry the worker fetches the platform package from. */
  registry: z._default(z.url(), "https://registry.npmjs.org"),
});

export type ClaudeCodeTaskConfig = z.infer<typeof claudeCodeConfigSchema>;
export type ClaudeCodeTaskConfigInput = z.input<typeof claudeCodeConfigSchema>;

/** Validates a config; the OptioConfigError names every field that is wrong. */
export function parseClaudeCodeConfig(input: unknown): ClaudeCodeTaskConfig {
  return parseAgentConfig(claudeCodeConfigSchema, input);
}
