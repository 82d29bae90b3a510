import { ArchiveError, PathEscapeError } from "./errors.js";
import type { RunResult } from "./host.js";
import { shellQuote } from "./shell.js";

const MAX_LINK_DEPTH = 40;

/**
 * A shell command printing every entry of `dir` that is neither a regular
 * file nor a directory, and with `hardLinks` every regular file with more
 * than one name, as NUL-separated triples: type letter (find's `%y`), path
 * relative to `dir`, and link target (empty unless a symlink). It reads what
 * is on disk, so links made by any earlier extraction count, whatever order
 * their archive listed them in.
 */
export function treeCheckCommand(dir: string, hardLinks = false): string {
  const select = hardLinks ? "\\( ! -type f ! -type d -o -type f -links +1 \\)" : "! -type f ! -type d";
  return `cd ${shellQuote(dir)} && exec find . -mindepth 1 ${select} -printf '%y\\0%P\\0%l\\0'`;
}

/**
 * Checks treeCheckCommand's output: every symlink, resolved through every
 * other symlink of the tree, must stay inside it; sockets, FIFOs and devices
 * are refused. Throws PathEscapeError or ArchiveError naming the entry.
 */
export function checkTreeListing(output: string): void {
  const fields = output.split("\0");
  if (fields.length % 3 !== 1 || fields[fields.length - 1] !== "")
    throw new ArchiveError("unexpected output from the workdir check");
  const links = new Map<string, string>();
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const [type, name, target] = [fields[i]!, fields[i + 1]!, fields[i + 2]!];
    if (type === "f")
      throw new ArchiveError(`${JSON.stringify(name)} is a hard link, which a restored tree may not hold`);
    if (type !== "l")
      throw new ArchiveError(
        `${JSON.stringify(name)} is a special file (find type ${type}), which a workdir may not hold`,
      );
    if (target.startsWith("/"))
      throw new PathEscapeError(
        `symlink ${JSON.stringify(name)} points to the absolute path ${JSON.stringify(target)}`,
      );
    links.set(name, target);
  }
  for (const [name, target] of links) resolveInside(links, name.split("/").slice(0, -1), target, 0, name);
}

/** Resolves `target` from `dir` through `links` (path to target) as the kernel would; throws when it leaves the root. */
export function resolveInside(
  links: ReadonlyMap<string, string>,
  dir: string[],
  target: string,
  depth: number,
  name: string,
): string[] {
  if (depth > MAX_LINK_DEPTH)
    throw new PathEscapeError(`symlink ${JSON.stringify(name)} resolves through too many links`);
  const stack = [...dir];
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (stack.length === 0)
        throw new PathEscapeError(
          `symlink ${JSON.stringify(name)} points outside the workdir: ${JSON.stringify(target)}`,
        );
      stack.pop();
      continue;
    }
    stack.push(part);
    const linked = links.get(stack.join("/"));
    if (linked !== undefined) {
      if (linked.startsWith("/"))
        throw new PathEscapeError(
          `symlink ${JSON.stringify(name)} resolves through the absolute link ${JSON.stringify(stack.join("/"))}`,
        );
      stack.pop();
      stack.splice(0, stack.length, ...resolveInside(links, stack, linked, depth + 1, name));
    }
  }
  return stack;
}

/** Runs treeCheckCommand on the host and checks what it printed. */
export async function verifyTree(
  run: (command: string) => Promise<RunResult>,
  dir: string,
  hardLinks = false,
): Promise<void> {
  const { stdout, stderr, exitCode } = await run(treeCheckCommand(dir, hardLinks));
  if (exitCode !== 0) throw new ArchiveError(`checking ${dir} on disk failed (exit ${exitCode}): ${stderr.trim()}`);
  checkTreeListing(stdout);
}
