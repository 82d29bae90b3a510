import {
  installAgent,
  type AdapterContext,
  type AgentInstallDescription,
  type HostPlatform,
  type InstalledAgent,
  type RegistryPackageSpec,
} from "@optio/agents";
import { shellQuote, type Host } from "@optio/host";
import type { ClaudeCodeTaskConfig } from "./config.js";

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
  const result = await host.runCommand(`[ -x ${q} ] && ${q} --version`, {
    env: { ...NO_AUTOUPDATE_ENV },
    timeoutMs: 30_000,
  });
  if (result.exitCode !== 0 || !result.stdout.includes("Claude Code")) return null;
  return result.stdout.trim().split(/\s+/)[0] ?? "";
}

/** How claude gets onto a host: the vendor script first (it always installs to `~/.local/bin`), then the registry. */
export const claudeInstall: AgentInstallDescription = {
  name: "claude",
  binaryName: "claude",
  defaultStrategies: ["vendor-script", "npm-registry"],
  registryPackage: claudeRegistryPackage,
  vendorScript: {
    url: "https://claude.ai/install.sh",
    env: () => ({ ...NO_AUTOUPDATE_ENV }),
    installsTo: "~/.local/bin/claude",
  },
  probe: (ctx, path) => probeClaude(ctx.host, path),
};

/**
 * Finds claude at the install dir, or installs it with each configured
 * strategy in turn; it is also linked into `<home>/.local/bin`, which the
 * command puts first on PATH (claude checks that its own dir is there).
 */
export function installClaude(ctx: AdapterContext, config: ClaudeCodeTaskConfig): Promise<InstalledAgent> {
  return installAgent(ctx, config, claudeInstall);
}
