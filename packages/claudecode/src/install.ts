import {
  AgentNotInstalledError,
  expandHostPath,
  installAgentBinary,
  installFromRegistry,
  installViaVendorScript,
  type AdapterContext,
  type AgentInstallStrategy,
  type HostPlatform,
  type InstalledAgent,
  type RegistryPackageSpec,
} from "@optio/agents";
import { shellQuote, type Host } from "@optio/host";
import type { ClaudeCodeTaskConfig, InstallStrategy } from "./config.js";

/** Keeps claude from replacing itself inside a per-task HOME (230 MB each, wiped). */
export const NO_AUTOUPDATE_ENV = { DISABLE_AUTOUPDATER: "1" } as const;

/** `@anthropic-ai/claude-code-<os>-<arch>[-musl]`: the package holding the native binary as `package/claude`. */
export function claudePlatformPackage(platform: HostPlatform): string {
  return `@anthropic-ai/claude-code-${platform.os}-${platform.arch}${platform.libc === "musl" ? "-musl" : ""}`;
}

/** Where claude's native build lives in the npm registry: one package per platform, the binary at its root. */
export const claudeRegistryPackage = {
  agent: "claude",
  packageName: claudePlatformPackage,
  binaryInPackage: "claude",
} as const satisfies RegistryPackageSpec;

/** The version `claude --version` reports at `path`, or null when nothing usable is there. */
export async function probeClaude(host: Host, path: string): Promise<string | null> {
  const q = shellQuote(path);
  const result = await host.runCommand(`[ -x ${q} ] && ${q} --version`, { env: { ...NO_AUTOUPDATE_ENV }, timeoutMs: 30_000 });
  if (result.exitCode !== 0 || !result.stdout.includes("Claude Code")) return null;
  return result.stdout.trim().split(/\s+/)[0] ?? "";
}

function strategy(name: InstallStrategy, config: ClaudeCodeTaskConfig): AgentInstallStrategy {
  if (name === "vendor-script") {
    return {
      name,
      async run(ctx, targetPath) {
        await installViaVendorScript(ctx.hook, { url: config.vendorScriptUrl, env: { ...NO_AUTOUPDATE_ENV } });
        if ((await probeClaude(ctx.host, targetPath)) !== null) return;
        // The vendor script always installs to ~/.local/bin; a custom dir gets a link to it.
        const vendorPath = await expandHostPath(ctx.host, "~/.local/bin/claude");
        if (vendorPath !== targetPath && (await probeClaude(ctx.host, vendorPath)) !== null) return vendorPath;
        throw new AgentNotInstalledError(`the vendor installer finished but ${targetPath} does not run as Claude Code`);
      },
    };
  }
  return {
    name,
    async run(ctx) {
      const { binaryPath } = await installFromRegistry(ctx.hook, {
        ...claudeRegistryPackage,
        version: config.claudeVersion,
        registry: config.registry,
        cacheDir: config.claudeCacheDir,
      });
      return binaryPath;
    },
  };
}

/**
 * Finds claude at the install dir, or installs it with each configured
 * strategy in turn; it is also linked into `<home>/.local/bin`, which the
 * command puts first on PATH (claude checks that its own dir is there).
 */
export function installClaude(ctx: AdapterContext, config: ClaudeCodeTaskConfig): Promise<InstalledAgent> {
  return installAgentBinary(ctx, {
    name: "claude",
    binaryName: "claude",
    installDir: config.installDir ?? config.claudeInstallDir,
    installIfMissing: config.installIfMissing,
    probe: probeClaude,
    strategies: config.installStrategies.map((name) => strategy(name, config)),
  });
}
