import { posix } from "node:path";
import { shellQuote, type Host } from "@optio/host";
import type { HostPlatform } from "./host-platform.js";

/** Written last into a version dir before it is published; its presence and size check mean "complete". */
export const CACHE_MANIFEST = ".optio-complete.json";

export interface CacheManifest {
  package: string;
  /** The package version the files came from. */
  version: string;
  /** The executable's path inside the version dir. */
  binary: string;
  /** The executable's size in bytes. */
  size: number;
}

/** `~` and `~/…` → absolute on the host; absolute paths pass through. */
export async function expandHostPath(host: Host, path: string): Promise<string> {
  if (path === "~") return host.resolveHome();
  if (path.startsWith("~/")) return posix.join(await host.resolveHome(), path.slice(2));
  return host.resolvePath(path);
}

/** `<cacheDir ?? ~/.cache/optio/<agent>>`, absolute on the host. */
export async function agentCacheDir(host: Host, agent: string, cacheDir?: string): Promise<string> {
  return expandHostPath(host, cacheDir ?? `~/.cache/optio/${agent}`);
}

/** The binary of a published version dir, or null when the dir is missing or incomplete. */
export async function completeCachedBinary(
  host: Host,
  versionDir: string,
): Promise<{ binaryPath: string; manifest: CacheManifest } | null> {
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse(
      (await host.readFile(posix.join(versionDir, CACHE_MANIFEST))).toString("utf8"),
    ) as CacheManifest;
  } catch {
    return null;
  }
  if (
    typeof manifest.binary !== "string" ||
    manifest.binary.startsWith("/") ||
    manifest.binary.split("/").includes("..")
  )
    return null;
  const binaryPath = posix.join(versionDir, manifest.binary);
  const stat = await host.stat(binaryPath);
  return stat?.type === "file" && stat.size === manifest.size ? { binaryPath, manifest } : null;
}

/**
 * Renames a fully written temp dir to `target` in one step. When another
 * installer published first, ours is removed and `false` comes back: the
 * caller checks the winner's dir instead.
 */
export async function publishDir(
  host: Host,
  tempDir: string,
  target: string,
  platform: HostPlatform,
): Promise<boolean> {
  const tmp = shellQuote(tempDir);
  const dst = shellQuote(target);
  // GNU and busybox `mv -T` rename(2) the dir and fail when the target is a
  // non-empty dir; BSD mv has no -T, so darwin checks first (a tiny window).
  const move = platform.os === "darwin" ? `[ ! -e ${dst} ] && mv ${tmp} ${dst}` : `mv -T ${tmp} ${dst} 2>/dev/null`;
  const result = await host.runCommand(`if ${move}; then echo published; else rm -rf ${tmp}; echo lost; fi`, {
    timeoutMs: 60_000,
  });
  return result.stdout.trim() === "published";
}

/** Points `<dir>/<name>` at `target` (replacing a previous link atomically); creates dir. */
export async function linkBinary(host: Host, target: string, dir: string, name: string): Promise<string> {
  const link = posix.join(dir, name);
  if (link !== target) await host.symlink(target, link);
  return link;
}
