import type { UsageCounts, UsageRecord, UsageReport, UsageTotals } from "../spec/usage.js";

const NONE: UsageCounts = { turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

function plus(counts: UsageCounts, record: UsageRecord, sign: 1 | -1): UsageCounts {
  const cost = (counts.costUsd ?? 0) + sign * (record.costUsd ?? 0);
  return {
    turns: counts.turns + sign,
    inputTokens: counts.inputTokens + sign * record.inputTokens,
    outputTokens: counts.outputTokens + sign * record.outputTokens,
    cacheReadTokens: counts.cacheReadTokens + sign * record.cacheReadTokens,
    cacheWriteTokens: counts.cacheWriteTokens + sign * record.cacheWriteTokens,
    ...((counts.costUsd !== undefined || record.costUsd !== undefined) && { costUsd: cost }),
  };
}

function sameRecord(a: UsageRecord, b: UsageRecord): boolean {
  return (
    a.model === b.model &&
    a.inputTokens === b.inputTokens &&
    a.outputTokens === b.outputTokens &&
    a.cacheReadTokens === b.cacheReadTokens &&
    a.cacheWriteTokens === b.cacheWriteTokens &&
    a.costUsd === b.costUsd
  );
}

/**
 * Sums model turns by id: a turn seen again unchanged is ignored, and one
 * seen with new numbers (an agent that rewrites a turn's record as it ends)
 * replaces what it counted before.
 */
export class UsageTally {
  readonly #records = new Map<string, UsageRecord>();
  #total: UsageCounts = NONE;
  #byModel: Record<string, UsageCounts> = {};

  /** Counts the record; returns the report to send, or null when it changed nothing. */
  add(record: UsageRecord): UsageReport | null {
    const earlier = this.#records.get(record.id);
    if (earlier && sameRecord(earlier, record)) return null;
    if (earlier) this.#count(earlier, -1);
    this.#records.set(record.id, record);
    this.#count(record, 1);
    return { record, total: this.totals };
  }

  get totals(): UsageTotals {
    return { ...this.#total, byModel: { ...this.#byModel } };
  }

  #count(record: UsageRecord, sign: 1 | -1): void {
    this.#total = plus(this.#total, record, sign);
    const model = plus(this.#byModel[record.model] ?? NONE, record, sign);
    if (model.turns === 0) delete this.#byModel[record.model];
    else this.#byModel[record.model] = model;
  }
}
