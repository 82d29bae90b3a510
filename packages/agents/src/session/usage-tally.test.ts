import { describe, expect, it } from "vitest";
import type { UsageRecord } from "../spec/usage.js";
import { UsageTally } from "./usage-tally.js";

const turn = (id: string, model: string, inputTokens: number, outputTokens: number, costUsd?: number): UsageRecord => ({
  id,
  model,
  inputTokens,
  outputTokens,
  cacheReadTokens: 1,
  cacheWriteTokens: 2,
  ...(costUsd !== undefined && { costUsd }),
});

describe("UsageTally", () => {
  it("sums turns in total and per model", () => {
    const tally = new UsageTally();
    tally.add(turn("a", "m1", 100, 10));
    tally.add(turn("b", "m2", 50, 5));
    const report = tally.add(turn("c", "m1", 1, 1));
    expect(report?.total).toEqual({
      turns: 3,
      inputTokens: 151,
      outputTokens: 16,
      cacheReadTokens: 3,
      cacheWriteTokens: 6,
      byModel: {
        m1: { turns: 2, inputTokens: 101, outputTokens: 11, cacheReadTokens: 2, cacheWriteTokens: 4 },
        m2: { turns: 1, inputTokens: 50, outputTokens: 5, cacheReadTokens: 1, cacheWriteTokens: 2 },
      },
    });
  });

  it("counts a turn read again once, and a turn rewritten with new numbers by its last numbers", () => {
    const tally = new UsageTally();
    expect(tally.add(turn("a", "m1", 100, 1))).not.toBeNull();
    expect(tally.add(turn("a", "m1", 100, 1))).toBeNull();
    expect(tally.add(turn("a", "m1", 100, 40))?.total).toMatchObject({ turns: 1, inputTokens: 100, outputTokens: 40 });
  });

  it("sums costs only where turns carry one", () => {
    const tally = new UsageTally();
    tally.add(turn("a", "m1", 1, 1));
    expect(tally.totals.costUsd).toBeUndefined();
    tally.add(turn("b", "m1", 1, 1, 0.25));
    tally.add(turn("c", "m2", 1, 1, 0.5));
    expect(tally.totals).toMatchObject({ costUsd: 0.75, byModel: { m1: { costUsd: 0.25 }, m2: { costUsd: 0.5 } } });
  });
});
