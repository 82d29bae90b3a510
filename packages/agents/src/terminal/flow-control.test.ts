import { describe, expect, it } from "vitest";
import { FlowControl } from "./flow-control.js";

function recorder() {
  const calls: string[] = [];
  return { calls, target: { pause: () => calls.push("pause"), resume: () => calls.push("resume") } };
}

describe("FlowControl", () => {
  it("pauses above the high-water mark and resumes only below the low-water mark", () => {
    const { calls, target } = recorder();
    const flow = new FlowControl(target, { highWater: 100, lowWater: 10 });
    flow.sent(60);
    flow.sent(40);
    expect(calls).toEqual([]);
    flow.sent(1);
    expect(calls).toEqual(["pause"]);
    expect(flow.paused).toBe(true);
    flow.sent(500);
    expect(calls).toEqual(["pause"]);
    flow.acked(500);
    expect(flow.unacked).toBe(101);
    expect(calls).toEqual(["pause"]);
    flow.acked(91);
    expect(flow.unacked).toBe(10);
    expect(calls).toEqual(["pause"]);
    flow.acked(1);
    expect(calls).toEqual(["pause", "resume"]);
    expect(flow.paused).toBe(false);
  });

  it("uses 100,000 and 5,000 by default", () => {
    const { calls, target } = recorder();
    const flow = new FlowControl(target);
    flow.sent(100_000);
    expect(calls).toEqual([]);
    flow.sent(1);
    expect(calls).toEqual(["pause"]);
    flow.acked(95_000);
    expect(calls).toEqual(["pause"]);
    flow.acked(2);
    expect(calls).toEqual(["pause", "resume"]);
  });

  it("clamps acknowledgements at zero and ignores nonsense", () => {
    const { calls, target } = recorder();
    const flow = new FlowControl(target, { highWater: 100, lowWater: 10 });
    flow.sent(20);
    flow.acked(1_000_000);
    expect(flow.unacked).toBe(0);
    flow.acked(Number.NaN);
    flow.acked(-50);
    flow.acked(Number.POSITIVE_INFINITY);
    flow.sent(-5);
    expect(flow.unacked).toBe(0);
    flow.sent(101);
    expect(calls).toEqual(["pause"]);
  });

  it("rejects thresholds that cannot work", () => {
    const { target } = recorder();
    expect(() => new FlowControl(target, { highWater: 10, lowWater: 10 })).toThrow(RangeError);
    expect(() => new FlowControl(target, { highWater: 10, lowWater: -1 })).toThrow(RangeError);
  });
});
