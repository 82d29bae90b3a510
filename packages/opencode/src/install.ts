import { posix } from "node:path";
import {
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
import { openCodeEnv } from "./command.js";
import type { InstallStrategy, OpenCodeTaskConfig } from "./config.js";

/** `opencode-<os>-<arch>[-musl]`: the package holding the native binary as `package/bin/opencode`. */
export function openCodePlatformPackage(platform: HostPlatform): string {
  return `opencode-${platform.os}-${platform.arch}${platform.libc === "musl" ? "-musl" : ""}`;
}

/** Where opencode's native build lives in the npm registry: one package per platform, the binary under `bin/`. */
export const openCodeRegistryPackage = {
  agent: "opencode",
  packageName: openCodePlatformPackage,
  binaryInPackage: "bin/opencode",
} as const satisfies RegistryPackageSpec;

/**
 * The version `opencode --version` prints at `path`, or null when nothing
 * usable is there. Even `--version` creates opencode's dirs under HOME, so
 * it runs with the task's HOME, never the user's.
 */
export async function probeOpenCode(host: Host, path: string, home: string): Promise<string | null> {
  const q = shellQuote(path);
  const result = await host.runCommand(`[ -x ${q} ] && ${q} --version`, { env: { HOME: home, ...openCodeEnv(home) }, timeoutMs: 30_000 });
  const version = result.stdout.trim();
  return result.exitCode === 0 && /^\d+\.\d+\.\d+\S*$/.test(version) ? version : null;
}

function strategy(name: InstallStrategy, config: OpenCodeTaskConfig): AgentInstallStrategy {
  if (name === "npm-registry") {
    return {
      name,
      async run(ctx) {
        const { binaryPath } = await installFromRegistry(ctx.hook, {
          ...openCodeRegistryPackage,
          version: config.opencodeVersion,
          registry: config.registry,
          cacheDir: config.opencodeCacheDir,
        });
        return binaryPath;
      },
    };
  }
  return {
    name,
    async run(ctx, targetPath) {
      // The script installs into OPENCODE_INSTALL_DIR when set (else ~/.opencode/bin).
      await installViaVendorScript(ctx.hook, { url: config.vendorScriptUrl, env: { OPENCODE_INSTALL_DIR: posix.dirname(targetPath) } });
      return targetPath;
    },
  };
}

/** Finds opencode at the install dir, or installs it with each configured strategy in turn. */
export async function installOpenCode(ctx: AdapterContext, config: OpenCodeTaskConfig): Promise<InstalledAgent> {
  return installAgentBinary(ctx, {
    name: "opencode",
    binaryName: "opencode",
    installDir: config.installDir ?? config.opencodeInstallDir,
    installIfMissing: config.installIfMissing,
    probe: (host, path) => probeOpenCode(host, path, ctx.home),
    strategies: config.installStrategies.map((name) => strategy(name, config)),
  });
}
