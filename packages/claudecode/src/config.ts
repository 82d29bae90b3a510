import { credentialFileSchema, defineAgentConfigSchema, jsonObjectSchema, parseAgentConfig } from "@optio/agents";
import * as z from "zod/mini";

/** The modes `claude --permission-mode` accepts (2.1.x); `default` is its alias for the normal mode. */
export const PERMISSION_MODES = [
  "default",
  "plan",
  "acceptEdits",
  "bypassPermissions",
  "auto",
  "manual",
  "dontAsk",
] as const;
/** claude's `--permission-mode`. */
export type PermissionMode = (typeof PERMISSION_MODES)[number];

/** The Claude Code task config: the config every agent takes, plus claude's own options. */
export const claudeCodeConfigSchema = defineAgentConfigSchema({
  /** Claude's login: an object is written as JSON, a string or bytes verbatim, to `home/.claude/.credentials.json` (mode 0600). */
  credentialsJson: z.optional(credentialFileSchema()),
  /** Written as `home/.claude/settings.json`, replacing any there; optio adds its state hooks after any `hooks` in it. */
  claudeConfig: z.optional(jsonObjectSchema()),
  /** Passed as `--permission-mode`; unset leaves claude's own default. */
  permissionMode: z.optional(z.enum(PERMISSION_MODES)),
  /** Passed comma-joined as `--allowed-tools`; empty passes nothing. */
  allowedTools: z._default(z.array(z.string().check(z.minLength(1))), []),
  /** Passed comma-joined as `--disallowed-tools`; empty passes nothing. */
  disallowedTools: z._default(z.array(z.string().check(z.minLength(1))), []),
});

/** A parsed Claude Code task config. */
export type ClaudeCodeTaskConfig = z.infer<typeof claudeCodeConfigSchema>;
/** A Claude Code task config as a caller writes it. */
export type ClaudeCodeTaskConfigInput = z.input<typeof claudeCodeConfigSchema>;

/** Validates a config; the OptioConfigError names every field that is wrong. */
export function parseClaudeCodeConfig(input: unknown): ClaudeCodeTaskConfig {
  return parseAgentConfig(claudeCodeConfigSchema, input);
}
