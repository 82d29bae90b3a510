import { describe, expect, it } from "vitest";
import type { AgentDriver } from "../spec/hook-context.js";
import { typeFirstMessage } from "./typed-first-message.js";

/** A terminal whose screen shows each of `screens` in turn (the last one from then on), recording what is typed. */
function terminal(screens: string[]) {
  const typed: Array<[string, boolean]> = [];
  let reads = 0;
  const driver: Pick<AgentDriver, "readScreen" | "sendText"> = {
    async readScreen() {
      return screens[Math.min(reads++, screens.length - 1)]!;
    },
    async sendText(text, options) {
      typed.push([text, options?.submit === true]);
    },
  };
  return { driver, typed, reads: () => reads };
}

describe("typeFirstMessage", () => {
  it("waits for the prompt, then types the message once and submits it", async () => {
    const t = terminal(["", "loading…", "Build · model   ctrl+p commands"]);
    const missed: string[] = [];
    await typeFirstMessage({
      driver: t.driver,
      promptReady: /ctrl\+p commands/,
      text: "You were interrupted.",
      signal: new AbortController().signal,
      onMissed: (m) => missed.push(m),
    });
    expect(t.reads()).toBe(3);
    expect(t.typed).toEqual([["You were interrupted.", true]]);
    expect(missed).toEqual([]);
  });

  it("types nothing when the agent ends before its prompt shows", async () => {
    const t = terminal(["loading…"]);
    const ended = new AbortController();
    const typing = typeFirstMessage({
      driver: t.driver,
      promptReady: /ctrl\+p commands/,
      text: "x",
      signal: ended.signal,
      onMissed: () => undefined,
    });
    ended.abort();
    await typing;
    expect(t.typed).toEqual([]);
  });

  it("says so, and types nothing, when the prompt never shows", async () => {
    const t = terminal(["loading…"]);
    const missed: string[] = [];
    await typeFirstMessage({
      driver: t.driver,
      promptReady: /ctrl\+p commands/,
      text: "x",
      signal: new AbortController().signal,
      onMissed: (m) => missed.push(m),
      waitMs: 600,
    });
    expect(t.typed).toEqual([]);
    expect(missed).toEqual(["the agent's prompt did not show within 0.6 s; its first message was not typed"]);
  });
});
