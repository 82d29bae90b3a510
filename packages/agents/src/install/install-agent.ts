import { posix } from "node:path";
import type { Host } from "@optio/host";
import type { AdapterContext, InstalledAgent } from "../spec/agent-adapter.js";
import { AgentInstallError, AgentNotInstalledError, type InstallAttempt } from "./install-errors.js";
import { checkVerifiedStamp, writeVerifiedStamp } from "./verified-stamp.js";
import { expandHostPath, linkBinary } from "./version-cache.js";

/** One way of getting an agent's binary onto the host. */
export interface AgentInstallStrategy {
  /** Named in progress messages and in AgentInstallError's attempts. */
  readonly name: string;
  /**
   * Installs the binary. It may write `targetPath` itself, or return where it
   * put the binary instead; that path is then linked to `targetPath`.
   */
  run(ctx: AdapterContext, targetPath: string): Promise<string | void>;
}

/** What `installAgentBinary` finds or installs, and with which strategies. */
export interface AgentBinarySpec {
  /** The agent's name in messages, e.g. "claude". */
  readonly name: string;
  /** The executable's file name in the install dir and in `<home>/.local/bin`. */
  readonly binaryName: string;
  /** Where the binary lives or is linked; absolute or `~/…`. */
  readonly installDir: string;
  readonly installIfMissing: boolean;
  /** The version the binary at `path` reports, `""` when it runs but names none, null when nothing usable is there. */
  probe(host: Host, path: string): Promise<string | null>;
  /** Tried in order until one leaves a binary that passes the probe. */
  readonly strategies: readonly AgentInstallStrategy[];
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0];

/**
 * Finds the agent at `<installDir>/<binaryName>`, or runs each strategy in
 * turn until the probe passes there. Every failure is kept, so the final
 * AgentInstallError lists them all. The binary is also linked into
 * `<home>/.local/bin`, which an adapter can put first on PATH.
 */
export async function installAgentBinary(ctx: AdapterContext, spec: AgentBinarySpec): Promise<InstalledAgent> {
  const { host } = ctx;
  const targetPath = posix.join(await expandHostPath(host, spec.installDir), spec.binaryName);
  // The resolved binary comes along so the link into the home needs no second look.
  const present = async (): Promise<(InstalledAgent & { resolved: string | undefined }) | null> => {
    const stamp = await checkVerifiedStamp(host, targetPath);
    let version = stamp.version;
    if (version === null) {
      version = await spec.probe(host, targetPath);
      if (version === null) return null;
      if (stamp.file) await writeVerifiedStamp(host, targetPath, stamp.file, version);
    }
    return { binaryPath: targetPath, version: version || undefined, resolved: stamp.file?.binary };
  };

  let installed = await present();
  if (!installed) {
    if (!spec.installIfMissing) {
      throw new AgentNotInstalledError(`${spec.name} is not installed at ${targetPath} and installIfMissing is false`);
    }
    const attempts: InstallAttempt[] = [];
    for (const strategy of spec.strategies) {
      ctx.signal.throwIfAborted();
      ctx.hook.reportProgress(null, `Installing ${spec.name} (${strategy.name})…`);
      try {
        const placed = await strategy.run(ctx, targetPath);
        if (placed && placed !== targetPath) {
          await linkBinary(host, (await host.realpath(placed)) ?? placed, posix.dirname(targetPath), spec.binaryName);
        }
        installed = await present();
        if (installed) break;
        throw new AgentNotInstalledError(`${strategy.name} finished but ${targetPath} does not run as ${spec.name}`);
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        attempts.push({ strategy: strategy.name, error });
        ctx.hook.reportProgress(null, `Installing ${spec.name} with ${strategy.name} failed: ${firstLine(error)}`);
      }
    }
    if (!installed) throw new AgentInstallError(`could not install ${spec.name} at ${targetPath}`, attempts);
  }
  const { resolved, ...agent } = installed;
  await linkBinary(host, resolved ?? installed.binaryPath, posix.join(ctx.home, ".local/bin"), spec.binaryName);
  return agent;
}
