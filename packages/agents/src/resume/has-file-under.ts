import { shellQuote } from "@optio/host";
import type { AdapterContext } from "../spec/agent-adapter.js";

/** What `hasFileUnder` looks for. */
export interface FileUnderQuery {
  /** A `find -name` pattern the file's name matches, e.g. `*.jsonl`. */
  name: string;
  /** Text the file must hold, matched literally; any file with a matching name counts without it. */
  containing?: string;
}

/**
 * Whether a regular file below `dir` (absolute on the host; a missing dir has
 * none) matches `query`: how an adapter's `resume.canContinue` tells that its
 * agent left a conversation on disk.
 */
export async function hasFileUnder(ctx: AdapterContext, dir: string, query: FileUnderQuery): Promise<boolean> {
  const match =
    query.containing === undefined ? "-print -quit" : `-exec grep -lF -e ${shellQuote(query.containing)} {} +`;
  const find = `find ${shellQuote(dir)} -type f -name ${shellQuote(query.name)} ${match} 2>/dev/null | head -n 1`;
  const result = await ctx.host.runCommand(find, { timeoutMs: 30_000, signal: ctx.signal });
  return result.stdout.trim().length > 0;
}
