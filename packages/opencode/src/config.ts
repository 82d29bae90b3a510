import { credentialFileSchema, defineAgentConfigSchema, jsonObjectSchema, parseAgentConfig } from "@optio/agents";
import * as z from "zod/mini";

/** The opencode task config: the config every agent takes, plus opencode's own options. */
export const openCodeConfigSchema = defineAgentConfigSchema({
  /** Written as `opencode.json` in the workdir (opencode's project config). */
  opencodeConfig: z.optional(jsonObjectSchema()),
  /** opencode's auth file: an object is written as JSON, a string or bytes verbatim, to `home/.local/share/opencode/auth.json` (mode 0600). */
  credentials: z.optional(credentialFileSchema()),
});

/** A parsed opencode task config. */
export type OpenCodeTaskConfig = z.infer<typeof openCodeConfigSchema>;
/** An opencode task config as a caller writes it. */
export type OpenCodeTaskConfigInput = z.input<typeof openCodeConfigSchema>;

/** Validates a config; the OptioConfigError names every field that is wrong. */
export function parseOpenCodeConfig(input: unknown): OpenCodeTaskConfig {
  return parseAgentConfig(openCodeConfigSchema, input);
}
