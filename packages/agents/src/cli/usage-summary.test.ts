import { describe, expect, it } from "vitest";
import { compactCount, usageSummary } from "./usage-summary.js";

describe("usageSummary", () => {
  it("rounds counts as a person reads them", () => {
    expect([950, 1000, 1234, 12_345, 999_999, 1_234_567].map(compactCount)).toEqual([
      "950",
      "1k",
      "1.2k",
      "12k",
      "1000k",
      "1.2M",
    ]);
  });

  it("says tokens in and out, cache and cost where there are any, turns and models", () => {
    const counts = { turns: 2, inputTokens: 12_300, outputTokens: 1200, cacheReadTokens: 300, cacheWriteTokens: 20 };
    expect(usageSummary({ ...counts, costUsd: 0.0412, byModel: { "claude-x": counts } })).toBe(
      "Usage: 12k in / 1.2k out · 300 cache read / 20 cache write · $0.04 (2 turns; claude-x)",
    );
    const plain = { turns: 1, inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 };
    expect(usageSummary({ ...plain, byModel: { a: plain } })).toBe("Usage: 10 in / 5 out (1 turn; a)");
  });
});
