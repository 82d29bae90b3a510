import { shellQuote, type Host } from "@optio/host";
import type { ListedEntry } from "./private-patterns.js";

/**
 * Every entry under `roots` (workdir-relative folders or files; missing ones
 * are skipped), found on the host in one command (GNU find). Patterns never
 * reach the shell: only these plain roots do, quoted, and the matching is
 * done on the returned names.
 */
export async function listUnder(host: Host, roots: readonly string[], signal?: AbortSignal): Promise<ListedEntry[]> {
  if (roots.length === 0) return [];
  const command = [
    `cd ${shellQuote(host.workdir)} || exit 2`,
    `for p in ${roots.map(shellQuote).join(" ")}; do`,
    `  if [ -e "$p" ] || [ -L "$p" ]; then find "$p" -printf '%y%p\\0' || exit 3; fi`,
    "done",
  ].join("\n");
  const result = await host.runCommand(command, { timeoutMs: 120_000, signal });
  if (result.exitCode !== 0)
    throw new Error(`listing the private paths failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-500)}`);
  return result.stdout
    .split("\0")
    .filter((field) => field.length > 1)
    .map((field) => ({ directory: field[0] === "d", path: field.slice(1) }));
}
