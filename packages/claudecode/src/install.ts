import { posix } from "node:path";
import {
  AgentInstallError,
  AgentNotInstalledError,
  expandHostPath,
  installFromRegistry,
  installViaVendorScript,
  linkBinary,
  type AdapterContext,
  type HostPlatform,
  type InstallAttempt,
  type InstalledAgent,
} from "@optio/agents";
import { shellQuote, type Host } from "@optio/host";
import type { ClaudeCodeTaskConfig, InstallStrategy } from "./config.js";

/** Keeps claude from replacing itself inside a per-task HOME (230 MB each, wiped). */
export const NO_AUTOUPDATE_ENV = { DISABLE_AUTOUPDATER: "1" } as const;

/** `@anthropic-ai/claude-code-<os>-<arch>[-musl]`: the package holding the native binary as `package/claude`. */
export function claudePlatformPackage(platform: HostPlatform): string {
  return `@anthropic-ai/claude-code-${platform.os}-${platform.arch}${platform.libc === "musl" ? "-musl" : ""}`;
}

/** The version `claude --version` reports at `path`, or null when nothing usable is there. */
export async function probeClaude(host: Host, path: string): Promise<string | null> {
  const q = shellQuote(path);
  const result = await host.runCommand(`[ -x ${q} ] && ${q} --version`, { env: { ...NO_AUTOUPDATE_ENV }, timeoutMs: 30_000 });
  if (result.exitCode !== 0 || !result.stdout.includes("Claude Code")) return null;
  return result.stdout.trim().split(/\s+/)[0] ?? "";
}

async function present(host: Host, path: string): Promise<InstalledAgent | null> {
  const version = await probeClaude(host, path);
  return version === null ? null : { binaryPath: path, version: version || undefined };
}

type Strategy = (ctx: AdapterContext, config: ClaudeCodeTaskConfig, claudePath: string) => Promise<InstalledAgent>;

const strategies: Record<InstallStrategy, Strategy> = {
  async "vendor-script"(ctx, config, claudePath) {
    await installViaVendorScript(ctx.hook, { url: config.vendorScriptUrl, env: { ...NO_AUTOUPDATE_ENV } });
    const found = await present(ctx.host, claudePath);
    if (found) return found;
    // The vendor script always installs to ~/.local/bin; a custom dir gets a link to it.
    const vendorPath = await expandHostPath(ctx.host, "~/.local/bin/claude");
    if (vendorPath !== claudePath && (await present(ctx.host, vendorPath))) {
      const target = (await ctx.host.realpath(vendorPath)) ?? vendorPath;
      await linkBinary(ctx.host, target, posix.dirname(claudePath), "claude");
      const linked = await present(ctx.host, claudePath);
      if (linked) return linked;
    }
    throw new AgentNotInstalledError(`the vendor installer finished but ${claudePath} does not run as Claude Code`);
  },
  async "npm-registry"(ctx, config, claudePath) {
    const { binaryPath } = await installFromRegistry(ctx.hook, {
      agent: "claude",
      packageName: claudePlatformPackage,
      binaryInPackage: "claude",
      version: config.claudeVersion,
      registry: config.registry,
      cacheDir: config.claudeCacheDir,
    });
    await linkBinary(ctx.host, binaryPath, posix.dirname(claudePath), "claude");
    const found = await present(ctx.host, claudePath);
    if (found) return found;
    throw new AgentNotInstalledError(`${binaryPath} was installed from the registry but does not run as Claude Code`);
  },
};

/**
 * Finds claude at the install dir, or installs it with each configured
 * strategy in turn. Also links it into `<home>/.local/bin`, which the
 * command puts first on PATH (claude checks that its own dir is there).
 */
export async function installClaude(ctx: AdapterContext, config: ClaudeCodeTaskConfig): Promise<InstalledAgent> {
  const dir = await expandHostPath(ctx.host, config.installDir ?? config.claudeInstallDir);
  const claudePath = posix.join(dir, "claude");
  ctx.hook.reportProgress(null, "Checking the claude installation…");
  let installed = await present(ctx.host, claudePath);
  if (!installed) {
    if (!config.installIfMissing) {
      throw new AgentNotInstalledError(`claude is not installed at ${claudePath} and installIfMissing is false`);
    }
    const attempts: InstallAttempt[] = [];
    for (const name of config.installStrategies) {
      ctx.signal.throwIfAborted();
      ctx.hook.reportProgress(null, `Installing claude (${name})…`);
      try {
        installed = await strategies[name](ctx, config, claudePath);
        break;
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        attempts.push({ strategy: name, error });
        ctx.hook.reportProgress(null, `Installing claude with ${name} failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
      }
    }
    if (!installed) throw new AgentInstallError(`could not install claude at ${claudePath}`, attempts);
  }
  const target = (await ctx.host.realpath(installed.binaryPath)) ?? installed.binaryPath;
  await linkBinary(ctx.host, target, posix.join(ctx.home, ".local/bin"), "claude");
  return installed;
}
