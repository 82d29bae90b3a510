import { posix } from "node:path";
import type { UsageCommandSource, UsageLocation, UsageRecord } from "@optio/agents";
import { shellQuote } from "@optio/host";
import { OPENCODE_DATA_DIR } from "./plant.js";

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

/**
 * opencode's assistant messages, one per model call, from its SQLite store
 * (`opencode.db`, table `message`: `id` and the message as JSON in `data`),
 * as JSON rows. Seen with opencode 1.18: the JSON holds `tokens` (`input`,
 * `output`, `reasoning`, `cache.read`, `cache.write`), `cost`, `providerID`
 * and `modelID`. The store is busy while opencode writes: the read waits a
 * little; before the store exists the command fails and prints nothing.
 */
export function openCodeUsageCommand(where: UsageLocation): string {
  const db = shellQuote(posix.join(where.home, OPENCODE_DATA_DIR, "opencode.db"));
  const query = shellQuote(`select id, data from message where json_extract(data, '$.role') = 'assistant'`);
  return `[ -f ${db} ] && sqlite3 -json -cmd '.timeout 3000' ${db} ${query}`;
}

/** The model turns in the command's rows; a message still without tokens (its call under way) is not one yet. */
export function parseOpenCodeUsage(output: string): UsageRecord[] {
  if (output.trim().length === 0) return [];
  const rows: unknown = JSON.parse(output);
  if (!Array.isArray(rows)) return [];
  return rows.flatMap((row): UsageRecord[] => {
    if (!isObject(row) || typeof row.id !== "string" || typeof row.data !== "string") return [];
    let message: unknown;
    try {
      message = JSON.parse(row.data);
    } catch {
      return [];
    }
    if (!isObject(message) || !isObject(message.tokens)) return [];
    const { tokens } = message;
    const cache = isObject(tokens.cache) ? tokens.cache : {};
    const record: UsageRecord = {
      id: row.id,
      model: [message.providerID, message.modelID].filter((part) => typeof part === "string").join("/") || "unknown",
      inputTokens: count(tokens.input),
      // Billed as output: reasoning is counted apart by opencode.
      outputTokens: count(tokens.output) + count(tokens.reasoning),
      cacheReadTokens: count(cache.read),
      cacheWriteTokens: count(cache.write),
      ...(typeof message.cost === "number" && Number.isFinite(message.cost) && { costUsd: message.cost }),
    };
    return record.inputTokens + record.outputTokens + record.cacheReadTokens + record.cacheWriteTokens > 0
      ? [record]
      : [];
  });
}

/** True when every assistant message in the command's rows is completed: no model call under way. */
export function openCodeTurnsSettled(output: string): boolean {
  if (output.trim().length === 0) return true;
  const rows: unknown = JSON.parse(output);
  if (!Array.isArray(rows)) return true;
  return rows.every((row) => {
    try {
      const time = (JSON.parse((row as { data: string }).data) as { time?: { completed?: unknown } }).time;
      return typeof time?.completed === "number";
    } catch {
      return true;
    }
  });
}

/** opencode's usage: its session store, read with the host's `sqlite3`. */
export const openCodeUsageSource: UsageCommandSource = {
  kind: "command",
  command: openCodeUsageCommand,
  parse: parseOpenCodeUsage,
  // Seen with opencode 1.18: a turn's tokens are stored once its step ends, after its tools ran, so after the DONE its tool wrote.
  settleMs: 6000,
  settled: openCodeTurnsSettled,
};
