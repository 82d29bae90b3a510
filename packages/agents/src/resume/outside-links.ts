import { shellQuote, type Host } from "@optio/host";

/** A symlink in the workdir that a restore would refuse: absolute, or leading above the workdir. */
export interface OutsideLink {
  /** Workdir-relative path of the link. */
  readonly path: string;
  readonly target: string;
}

/** True when `target`, read from a link at the workdir-relative `linkPath`, leaves the workdir (the restore's rule). */
export function leavesWorkdir(linkPath: string, target: string): boolean {
  if (target.startsWith("/") || target === "") return true;
  const parts = linkPath.split("/").slice(0, -1);
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return true;
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return false;
}

/**
 * The workdir's symlinks that a restore would refuse, found on the host in
 * one command (GNU find). A snapshot leaves them out, so it never stores
 * what its restore cannot put back.
 */
export async function findOutsideLinks(host: Host, signal?: AbortSignal): Promise<OutsideLink[]> {
  const result = await host.runCommand(`cd ${shellQuote(host.workdir)} && find . -type l -printf '%P\\0%l\\0'`, {
    timeoutMs: 120_000,
    signal,
  });
  if (result.exitCode !== 0)
    throw new Error(
      `listing the workdir's symlinks failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-500)}`,
    );
  const fields = result.stdout.split("\0");
  const links: OutsideLink[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const path = fields[i] as string;
    const target = fields[i + 1] as string;
    if (leavesWorkdir(path, target)) links.push({ path, target });
  }
  return links;
}

/** A workdir-relative path as a GNU tar exclude pattern matching it literally (wildcards escaped). */
export function literalExclude(path: string): string {
  return path.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}

function patternRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\" && i + 1 < pattern.length) source += `\\${pattern[++i]}`;
    else if (c === "*") source += ".*";
    else if (c === "?") source += "[^/]";
    else source += /[.+^${}()|[\]\\]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`^${source}$`);
}

/**
 * True when GNU tar's unanchored exclude patterns leave `path` out: a
 * pattern matches the path, or a directory above it, from any `/` on
 * (`*` crosses `/`). Links in such places never reach an archive.
 */
export function excludedBy(path: string, patterns: readonly string[]): boolean {
  const parts = path.split("/");
  const regexps = patterns.map(patternRegExp);
  for (let end = 1; end <= parts.length; end++) {
    for (let start = 0; start < end; start++) {
      const name = parts.slice(start, end).join("/");
      if (regexps.some((r) => r.test(name))) return true;
    }
  }
  return false;
}
