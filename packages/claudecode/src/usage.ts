import { createHash } from "node:crypto";
import { posix } from "node:path";
import type { UsageFileSource, UsageLocation, UsageRecord } from "@optio/agents";

/** The model claude names on entries it makes up itself (an interruption, an API error): no model turn. */
const SYNTHETIC_MODEL = "<synthetic>";

/**
 * The conversation id claude is started with (`--session-id`), one per
 * workdir: a fresh start empties the workdir, and `--continue` keeps the id,
 * so the transcript's path is known before claude writes it.
 */
export function claudeSessionId(workdir: string): string {
  const hex = createHash("sha256").update(`optio-claude-session:${workdir}`).digest("hex");
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** claude's directory name for a project: its path with every character but letters and digits turned into `-`. */
export function claudeProjectKey(workdir: string): string {
  return workdir.replace(/[^a-zA-Z0-9]/g, "-");
}

/** Where claude writes the task's conversation: `$CLAUDE_CONFIG_DIR/projects/<project key>/<session id>.jsonl`. */
export function claudeTranscriptPath(where: UsageLocation): string {
  return posix.join(
    where.home,
    ".claude/projects",
    claudeProjectKey(where.workdir),
    `${claudeSessionId(where.workdir)}.jsonl`,
  );
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

/**
 * A transcript line's model turn: an assistant entry's `message.usage`. claude
 * writes one entry per content block of a message, each with the message's id
 * and usage, so the id makes them one turn.
 */
export function parseClaudeTranscriptLine(line: string): UsageRecord[] {
  if (!line.includes('"usage"')) return [];
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return [];
  }
  if (!isObject(entry) || entry.type !== "assistant" || !isObject(entry.message)) return [];
  const { id, model, usage } = entry.message;
  if (!isObject(usage) || typeof model !== "string" || model === SYNTHETIC_MODEL) return [];
  const turnId = typeof id === "string" ? id : typeof entry.uuid === "string" ? entry.uuid : undefined;
  if (!turnId) return [];
  return [
    {
      id: turnId,
      model,
      inputTokens: count(usage.input_tokens),
      outputTokens: count(usage.output_tokens),
      cacheReadTokens: count(usage.cache_read_input_tokens),
      cacheWriteTokens: count(usage.cache_creation_input_tokens),
    },
  ];
}

/** claude's usage: its transcript JSONL, which records no cost. */
export const claudeUsageSource: UsageFileSource = {
  kind: "file",
  path: claudeTranscriptPath,
  parse: parseClaudeTranscriptLine,
  // claude may record the turn that wrote DONE a moment after that line shows (seen over SSH on a quiet machine).
  settleMs: 3000,
};
