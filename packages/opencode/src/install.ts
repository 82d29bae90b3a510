import { posix } from "node:path";
import {
  installAgent,
  type AdapterContext,
  type AgentInstallDescription,
  type HostPlatform,
  type InstalledAgent,
  type RegistryPackageSpec,
} from "@optio/agents";
import { shellQuote, type Host } from "@optio/host";
import { openCodeEnv } from "./command.js";
import type { OpenCodeTaskConfig } from "./config.js";

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
  const result = await host.runCommand(`[ -x ${q} ] && ${q} --version`, {
    env: { HOME: home, ...openCodeEnv(home) },
    timeoutMs: 30_000,
  });
  const version = result.stdout.trim();
  return result.exitCode === 0 && /^\d+\.\d+\.\d+\S*$/.test(version) ? version : null;
}

/** How opencode gets onto a host: the registry first, then the vendor script (told the install dir). */
export const openCodeInstall: AgentInstallDescription = {
  name: "opencode",
  binaryName: "opencode",
  defaultStrategies: ["npm-registry", "vendor-script"],
  registryPackage: openCodeRegistryPackage,
  // The script installs into OPENCODE_INSTALL_DIR when set (else ~/.opencode/bin).
  vendorScript: {
    url: "https://opencode.ai/install",
    env: (targetPath) => ({ OPENCODE_INSTALL_DIR: posix.dirname(targetPath) }),
  },
  probe: (ctx, path) => probeOpenCode(ctx.host, path, ctx.home),
};

/** Finds opencode at the install dir, or installs it with each configured strategy in turn. */
export function installOpenCode(ctx: AdapterContext, config: OpenCodeTaskConfig): Promise<InstalledAgent> {
  return installAgent(ctx, config, openCodeInstall);
}
