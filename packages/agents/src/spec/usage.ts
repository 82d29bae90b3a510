/** One model turn as the agent recorded it: its model and token counts, and its cost where the agent records one. */
export interface UsageRecord {
  /** The turn's id in the agent's records: a turn read twice (claude writes one line per content block) counts once. */
  readonly id: string;
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  /** In US dollars, as the agent computed it; absent when the agent records no cost. */
  readonly costUsd?: number;
}

/** Token counts summed over turns. */
export interface UsageCounts {
  readonly turns: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  /** The sum of the turns' costs; absent when no turn recorded one. */
  readonly costUsd?: number;
}

/** The whole session's usage: totals and the same per model. */
export interface UsageTotals extends UsageCounts {
  readonly byModel: Readonly<Record<string, UsageCounts>>;
}

/** One turn's usage with the session's totals after it. */
export interface UsageReport {
  readonly record: UsageRecord;
  readonly total: UsageTotals;
}

/** Where a task's agent keeps its state: absolute paths on the host. */
export interface UsageLocation {
  readonly workdir: string;
  /** `<workdir>/home`: the agent's HOME. */
  readonly home: string;
}

/** The agent appends its records to a file (claude: its transcript JSONL), followed from line 1 as it grows. */
export interface UsageFileSource {
  readonly kind: "file";
  /** The file; it need not exist yet when the agent starts. */
  path(where: UsageLocation): string;
  /** The records one line holds: none for most lines. */
  parse(line: string): UsageRecord[];
  /**
   * How long the agent may still be writing its last turn when the session
   * ends with it running (DONE, ERROR): before stopping it, the session waits,
   * up to this long, until the file was written after optio.log's last line
   * (the agent appends its records in order) or stops growing.
   */
  settleMs?: number;
}

/** The agent keeps its records where a command can read them (opencode: its SQLite store), polled. */
export interface UsageCommandSource {
  readonly kind: "command";
  /**
   * A shell command printing every record so far; it runs in the workdir.
   * Before the store exists it fails quietly (nothing on stderr); an error it
   * prints (no `sqlite3` on the host) is reported once as a warning.
   */
  command(where: UsageLocation): string;
  /** The records the command's output holds. */
  parse(output: string): UsageRecord[];
  /**
   * How long the agent may take to record a turn after its tools ran (opencode
   * writes a turn's tokens once its step ends): a session that ends with the
   * agent still running (DONE, ERROR) polls the command up to this long before
   * stopping it, until `settled` says every turn is recorded.
   */
  settleMs?: number;
  /** Whether the command's output shows no turn still under way; without it the session waits the whole `settleMs`. */
  settled?(output: string): boolean;
}

/**
 * How the session reads what the agent's model turns used, from the agent's
 * own records on the host. Records are read from the start of the
 * conversation, so a resumed session's totals continue the earlier ones.
 */
export type UsageSource = UsageFileSource | UsageCommandSource;
