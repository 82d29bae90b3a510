import { installAgent } from "@optio/agents";
import type {
  AdapterContext,
  AgentInstallDescription,
  HostPlatform,
  InstalledAgent,
  RegistryPackageSpec,
} from "@optio/agents";
import { shellQuote, type Host } from "@optio/host";
import { codexHome } from "./command.js";
import type { CodexTaskConfig } from "./config.js";

/** The Rust target Codex builds for a host: always the static musl build on Linux. */
export function codexTarget(platform: HostPlatform): string {
  return `${platform.arch === "x64" ? "x86_64" : "aarch64"}-unknown-linux-musl`;
}

/**
 * Codex publishes every platform as a version of `@openai/codex`
 * (`0.171.0-linux-x64`). The whole target folder is taken: beside the binary
 * it holds `codex-package.json` (the layout the binary reads), its own `rg`
 * under `codex-path/` and its sandbox helper under `codex-resources/`.
 */
export const codexRegistryPackage = {
  agent: "codex",
  packageName: "@openai/codex",
  packageVersion: (version, p) => `${version}-${p.os}-${p.arch}`,
  binaryInPackage: (p) => `vendor/${codexTarget(p)}/bin/codex`,
  files: (p) => [`vendor/${codexTarget(p)}/`],
} as const satisfies Omit<RegistryPackageSpec, "version" | "registry" | "cacheDir">;

/** The version `codex --version` prints at `path` (`codex-cli 0.171.0`), or null when nothing usable is there. */
export async function probeCodex(host: Host, path: string, home: string): Promise<string | null> {
  const q = shellQuote(path);
  const result = await host.runCommand(`[ -x ${q} ] && ${q} --version`, {
    env: { HOME: home, CODEX_HOME: codexHome(home) },
    timeoutMs: 30_000,
  });
  const match = /^codex-cli (\d+\.\d+\.\d+\S*)$/.exec(result.stdout.trim());
  return result.exitCode === 0 && match ? match[1]! : null;
}

/** How Codex gets onto a host: from the npm registry (it has no installer script of its own). */
export const codexInstall: AgentInstallDescription = {
  name: "codex",
  binaryName: "codex",
  defaultStrategies: ["npm-registry"],
  registryPackage: codexRegistryPackage,
  probe: (ctx, path) => probeCodex(ctx.host, path, ctx.home),
};

/** Finds Codex at the install dir, or installs it from the registry. */
export function installCodex(ctx: AdapterContext, config: CodexTaskConfig): Promise<InstalledAgent> {
  return installAgent(ctx, config, codexInstall);
}
