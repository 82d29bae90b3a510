import { posix } from "node:path";
import { type AgentInstallDescription, installerFor, packagePerPlatform, versionOutput } from "@optio/agents";
import type { Host } from "@optio/host";
import { openCodeEnv } from "./command.js";

/** Where opencode's native build lives in the npm registry: `opencode-<os>-<arch>[-musl]`, the binary under `bin/`. */
export const openCodeRegistryPackage = packagePerPlatform({
  agent: "opencode",
  prefix: "opencode",
  binaryInPackage: "bin/opencode",
});

/** The package holding opencode's native binary for a platform. */
export const openCodePlatformPackage = openCodeRegistryPackage.packageName;

/**
 * The version `opencode --version` prints at `path`, or null when nothing
 * usable is there. Even `--version` creates opencode's dirs under HOME, so
 * it runs with the task's HOME, never the user's.
 */
export async function probeOpenCode(host: Host, path: string, home: string): Promise<string | null> {
  const version = await versionOutput(host, path, { HOME: home, ...openCodeEnv(home) });
  return version !== null && /^\d+\.\d+\.\d+\S*$/.test(version) ? version : null;
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
export const installOpenCode = installerFor(openCodeInstall);
