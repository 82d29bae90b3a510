import { type Host, OptioConfigError, shellQuote } from "@optio/host";
import type { AdapterContext, InstalledAgent } from "../spec/agent-adapter.js";
import type { AgentTaskConfig, InstallStrategyName } from "../spec/config.js";
import { type AgentInstallStrategy, installAgentBinary } from "./install-agent.js";
import { AgentNotInstalledError } from "./install-errors.js";
import { installFromRegistry, type RegistryPackageSpec } from "./registry-package.js";
import { installViaVendorScript } from "./vendor-script.js";
import { expandHostPath } from "./version-cache.js";

/**
 * What `<path> --version` prints (trimmed), run with `env`, when an executable
 * is there and exits 0; null otherwise. A probe reads its version from it.
 */
export async function versionOutput(host: Host, path: string, env: Record<string, string>): Promise<string | null> {
  const q = shellQuote(path);
  const result = await host.runCommand(`[ -x ${q} ] && ${q} --version`, { env, timeoutMs: 30_000 });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

/** The vendor's own installer, for the `vendor-script` strategy. */
export interface VendorScriptDescription {
  /** The script's URL when the config names none. */
  readonly url: string;
  /** Variables the script reads, given the path the binary must end up at (e.g. its install dir). */
  env?(targetPath: string): Record<string, string>;
  /** Where the script puts the binary when it cannot be told (`~/…` or absolute); linked to the install dir from there. */
  readonly installsTo?: string;
}

/**
 * How an adapter's agent gets onto a host, as data. What the adapter alone
 * knows lives here; the settings every agent shares (install dir, version
 * pin, cache dir, registry, strategy order, script URL, install-if-missing)
 * come from the base config.
 */
export interface AgentInstallDescription {
  /** The agent's name in messages, e.g. "claude". */
  readonly name: string;
  /** The executable's file name in the install dir and in `<home>/.local/bin`. */
  readonly binaryName: string;
  /** The strategies tried, in order, when the config's `installStrategies` names none. */
  readonly defaultStrategies: readonly InstallStrategyName[];
  /** The agent's packages in the npm registry; the version, registry and cache dir come from the config. */
  readonly registryPackage?: Omit<RegistryPackageSpec, "version" | "registry" | "cacheDir">;
  readonly vendorScript?: VendorScriptDescription;
  /** The version the binary at `path` reports, `""` when it runs but names none, null when nothing usable is there. */
  probe(ctx: AdapterContext, path: string): Promise<string | null>;
}

/** The base config's install settings. */
export type AgentInstallSettings = Pick<
  AgentTaskConfig,
  | "installIfMissing"
  | "installDir"
  | "installStrategies"
  | "agentVersion"
  | "installCacheDir"
  | "registry"
  | "vendorScriptUrl"
>;

/** Where an agent lives unless `installDir` says otherwise. */
export const DEFAULT_INSTALL_DIR = "~/.local/bin";

function strategyFor(
  ctx: AdapterContext,
  name: InstallStrategyName,
  settings: AgentInstallSettings,
  agent: AgentInstallDescription,
): AgentInstallStrategy {
  if (name === "npm-registry") {
    const registryPackage = agent.registryPackage;
    if (!registryPackage)
      throw new OptioConfigError(`config.installStrategies: ${agent.name} is not published in the npm registry`);
    return {
      name,
      async run() {
        const spec = {
          ...registryPackage,
          version: settings.agentVersion,
          registry: settings.registry,
          cacheDir: settings.installCacheDir,
        };
        return (await installFromRegistry(ctx.hook, spec)).binaryPath;
      },
    };
  }
  const script = agent.vendorScript;
  if (!script) throw new OptioConfigError(`config.installStrategies: ${agent.name} has no vendor install script`);
  return {
    name,
    async run(_ctx, targetPath) {
      await installViaVendorScript(ctx.hook, {
        url: settings.vendorScriptUrl ?? script.url,
        env: script.env?.(targetPath),
      });
      if ((await agent.probe(ctx, targetPath)) !== null || !script.installsTo) return;
      const placed = await expandHostPath(ctx.host, script.installsTo);
      if (placed !== targetPath && (await agent.probe(ctx, placed)) !== null) return placed;
      throw new AgentNotInstalledError(
        `the vendor installer finished but neither ${targetPath} nor ${placed} runs as ${agent.name}`,
      );
    },
  };
}

/** An adapter's `install` for `agent`: installAgent with the task's settings. */
export function installerFor(
  agent: AgentInstallDescription,
): (ctx: AdapterContext, settings: AgentInstallSettings) => Promise<InstalledAgent> {
  return (ctx, settings) => installAgent(ctx, settings, agent);
}

/**
 * Finds the agent in the install dir, or installs it with the configured
 * strategies (the adapter's order by default); it is also linked into
 * `<home>/.local/bin`. A strategy the agent cannot be installed by is an
 * OptioConfigError before anything is tried.
 */
export async function installAgent(
  ctx: AdapterContext,
  settings: AgentInstallSettings,
  agent: AgentInstallDescription,
): Promise<InstalledAgent> {
  const names = settings.installStrategies ?? agent.defaultStrategies;
  const strategies = names.map((name) => strategyFor(ctx, name, settings, agent));
  return installAgentBinary(ctx, {
    name: agent.name,
    binaryName: agent.binaryName,
    installDir: settings.installDir ?? DEFAULT_INSTALL_DIR,
    installIfMissing: settings.installIfMissing,
    probe: (_host, path) => agent.probe(ctx, path),
    strategies,
  });
}
