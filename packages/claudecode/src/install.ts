import { type AgentInstallDescription, installerFor, packagePerPlatform, versionOutput } from "@optio/agents";
import type { Host } from "@optio/host";

/** Keeps claude from replacing itself inside a per-task HOME (230 MB each, wiped). */
export const NO_AUTOUPDATE_ENV = { DISABLE_AUTOUPDATER: "1" } as const;

/** Where claude's native build lives in the npm registry: `@anthropic-ai/claude-code-<os>-<arch>[-musl]`, the binary at its root. */
export const claudeRegistryPackage = packagePerPlatform({
  agent: "claude",
  prefix: "@anthropic-ai/claude-code",
  binaryInPackage: "claude",
});

/** The package holding claude's native binary for a platform. */
export const claudePlatformPackage = claudeRegistryPackage.packageName;

/** The version `claude --version` reports at `path`, or null when nothing usable is there. */
export async function probeClaude(host: Host, path: string): Promise<string | null> {
  const output = await versionOutput(host, path, { ...NO_AUTOUPDATE_ENV });
  if (output === null || !output.includes("Claude Code")) return null;
  return output.split(/\s+/)[0] ?? "";
}

/** How claude gets onto a host: the vendor script first (it always installs to `~/.local/bin`), then the registry. */
export const claudeInstall: AgentInstallDescription = {
  name: "claude",
  binaryName: "claude",
  defaultStrategies: ["vendor-script", "npm-registry"],
  vendorScript: {
    url: "https://claude.ai/install.sh",
    env: () => ({ ...NO_AUTOUPDATE_ENV }),
    installsTo: "~/.local/bin/claude",
  },
  registryPackage: claudeRegistryPackage,
  probe: (ctx, path) => probeClaude(ctx.host, path),
};

/**
 * Finds claude at the install dir, or installs it with each configured
 * strategy in turn; it is also linked into `<home>/.local/bin`, which the
 * command puts first on PATH (claude checks that its own dir is there).
 */
export const installClaude = installerFor(claudeInstall);
