import type { UsageTotals } from "../spec/usage.js";

/** A token count as a person reads it: `950`, `12.3k`, `1.2M`. */
export function compactCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0).replace(/\.0$/, "")}k`;
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, "")}M`;
}

/** One line for the end of a run: `Usage: 12.3k in / 1.2k out · 300 cache read / 20 cache write · $0.04 (2 turns; claude-x)`. */
export function usageSummary(usage: UsageTotals): string {
  const parts = [`${compactCount(usage.inputTokens)} in / ${compactCount(usage.outputTokens)} out`];
  if (usage.cacheReadTokens > 0 || usage.cacheWriteTokens > 0)
    parts.push(
      `${compactCount(usage.cacheReadTokens)} cache read / ${compactCount(usage.cacheWriteTokens)} cache write`,
    );
  if (usage.costUsd !== undefined) parts.push(`$${usage.costUsd.toFixed(2)}`);
  const models = Object.keys(usage.byModel);
  return `Usage: ${parts.join(" · ")} (${usage.turns} ${usage.turns === 1 ? "turn" : "turns"}${models.length > 0 ? `; ${models.join(", ")}` : ""})`;
}
