import { defineAgentConfigSchema, hostDirSchema, parseAgentConfig } from "@optio/agents";
import * as z from "zod/mini";

/** Install strategies, tried in the order given until one yields a working `opencode`. */
export const INSTALL_STRATEGIES = ["npm-registry", "vendor-script"] as const;
export type InstallStrategy = (typeof INSTALL_STRATEGIES)[number];

const jsonObject = z.record(z.string(), z.unknown());

export const openCodeConfigSchema = defineAgentConfigSchema({
  /** Written as `opencode.json` in the workdir (opencode's project config). */
  opencodeConfig: z.optional(jsonObject),
  /** opencode's auth file: an object is written as JSON, a string or bytes verbatim, to `home/.local/share/opencode/auth.json` (mode 0600). */
  credentials: z.optional(z.union([jsonObject, z.string(), z.instanceof(Uint8Array)])),
  /** Where `opencode` lives or is linked on the host; absolute or `~/…`. The shared `installDir`, when set, wins. */
  opencodeInstallDir: z._default(hostDirSchema(), "~/.local/bin"),
  /** Install strategies in the order they are tried. */
  installStrategies: z._default(z.array(z.enum(INSTALL_STRATEGIES)).check(z.minLength(1)), ["npm-registry", "vendor-script"]),
  /** The vendor install script (fetched and run on the host). */
  vendorScriptUrl: z._default(z.url(), "https://opencode.ai/install"),
  /** Pin the npm-registry strategy to this version; default the registry's latest. */
  opencodeVersion: z.optional(z.string().check(z.minLength(1))),
  /** Host dir of the shared binary cache (`<dir>/<version>/opencode`); absolute or `~/…`, default `~/.cache/optio/opencode`. */
  opencodeCacheDir: z.optional(hostDirSchema()),
  /** The npm registry the worker fetches the platform package from. */
  registry: z._default(z.url(), "https://registry.npmjs.org"),
});

export type OpenCodeTaskConfig = z.infer<typeof openCodeConfigSchema>;
export type OpenCodeTaskConfigInput = z.input<typeof openCodeConfigSchema>;

/** Validates a config; the OptioConfigError names every field that is wrong. */
export function parseOpenCodeConfig(input: unknown): OpenCodeTaskConfig {
  return parseAgentConfig(openCodeConfigSchema, input);
}
