import { credentialFileSchema, defineAgentConfigSchema, parseAgentConfig } from "@optio/agents";
import * as z from "zod/mini";

/** The Codex task config: the config every agent takes, plus Codex's own options. */
export const codexConfigSchema = defineAgentConfigSchema({
  /** Codex's login: an object is written as JSON, a string or bytes verbatim, to `home/.codex/auth.json` (mode 0600). */
  credentials: z.optional(credentialFileSchema()),
  /** Lines added to `home/.codex/config.toml` after optio's own settings (a model, a provider, MCP servers). */
  codexConfigToml: z.optional(z.string()),
  /** Settings for every start, fresh or resumed, each passed as `-c key=value` (the value TOML): `approval_policy="never"`. */
  codexOverrides: z._default(z.array(z.string().check(z.regex(/^[\w.-]+=/, "not key=value"))), []),
});

/** A parsed Codex task config. */
export type CodexTaskConfig = z.infer<typeof codexConfigSchema>;
/** A Codex task config as a caller writes it. */
export type CodexTaskConfigInput = z.input<typeof codexConfigSchema>;

/** Validates a config; the OptioConfigError names every field that is wrong. */
export function parseCodexConfig(input: unknown): CodexTaskConfig {
  return parseAgentConfig(codexConfigSchema, input);
}
