import { describe, expect, it } from "vitest";
import { AGENT_KEYS, UnsupportedKeyError, checkAgentKeys } from "./agent-keys.js";

describe("checkAgentKeys", () => {
  it("accepts every named key, in order", () => {
    expect(checkAgentKeys([...AGENT_KEYS])).toEqual([...AGENT_KEYS]);
    expect(checkAgentKeys([])).toEqual([]);
  });

  it.each([
    [["Enter", "C-c"], 'key 1 ("C-c")'],
    [["y", "yes"], 'key 1 ("yes")'],
    [["enter"], 'key 0 ("enter")'],
    [["Y"], 'key 0 ("Y")'],
    [["F1"], 'key 0 ("F1")'],
    [["Enter", 1], "key 1 (1)"],
    [[null], "key 0 (null)"],
    [["a"], 'key 0 ("a")'],
    [["\u001b"], 'key 0 ("\\u001b")'],
  ])("refuses %j naming %s", (keys, named) => {
    let thrown: unknown;
    try {
      checkAgentKeys(keys as unknown[]);
    } catch (e) {
      thrown = e;
    }
    expect(UnsupportedKeyError.isInstance(thrown)).toBe(true);
    expect((thrown as UnsupportedKeyError).code).toBe("unsupported_key");
    expect((thrown as Error).message).toContain(named);
  });

  it("refuses a value that is not a list", () => {
    expect(() => checkAgentKeys("Enter" as unknown as unknown[])).toThrow(UnsupportedKeyError);
  });
});
