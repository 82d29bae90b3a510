import { describe, expect, it } from "vitest";
import { agentTaskConfigSchema, parseAgentConfig } from "../spec/config.js";
import { defaultKickoffPrompt, defaultResumePrompt, firstMessageFor, startsByItself } from "./kickoff.js";

const config = (input: Record<string, unknown>) => parseAgentConfig(agentTaskConfigSchema, input);
const fresh = { fresh: true, continueConversation: false, instructionsFile: "CLAUDE.md" };
const continuing = { fresh: false, continueConversation: true, instructionsFile: "CLAUDE.md" };
const noTranscript = { fresh: false, continueConversation: false, instructionsFile: "CLAUDE.md" };

describe("first messages", () => {
  it("starts by itself when there are instructions, unless autoStart says otherwise", () => {
    expect(startsByItself(config({ consumerInstructions: "Write a poem" }))).toBe(true);
    expect(startsByItself(config({ consumerInstructions: "  \n" }))).toBe(false);
    expect(startsByItself(config({ consumerInstructions: "Write a poem", autoStart: false }))).toBe(false);
    expect(startsByItself(config({ autoStart: true }))).toBe(true);
  });

  it("kicks off a fresh start, naming the instructions file", () => {
    expect(firstMessageFor(config({ consumerInstructions: "Write a poem" }), fresh)).toBe(
      defaultKickoffPrompt("CLAUDE.md"),
    );
    expect(defaultKickoffPrompt("CLAUDE.md")).toContain("CLAUDE.md");
  });

  it("gives a resume that continues its transcript the resume notice, never the kickoff", () => {
    const message = firstMessageFor(config({ consumerInstructions: "Write a poem" }), continuing);
    expect(message).toBe(defaultResumePrompt("CLAUDE.md"));
    expect(message).toMatch(/interrupted/);
    expect(message).not.toBe(defaultKickoffPrompt("CLAUDE.md"));
  });

  it("gives a resume without a transcript nothing", () => {
    expect(firstMessageFor(config({ consumerInstructions: "Write a poem" }), noTranscript)).toBeUndefined();
  });

  it("gives nothing at all when the agent waits for a person", () => {
    const waiting = config({ consumerInstructions: "Write a poem", autoStart: false });
    expect(firstMessageFor(waiting, fresh)).toBeUndefined();
    expect(firstMessageFor(waiting, continuing)).toBeUndefined();
  });

  it("uses the config's own texts when given", () => {
    const own = config({ consumerInstructions: "x", kickoffPrompt: "Go.", resumePrompt: "Go on." });
    expect(firstMessageFor(own, fresh)).toBe("Go.");
    expect(firstMessageFor(own, continuing)).toBe("Go on.");
  });

  it("rejects an empty override and a malformed apiBaseUrl, naming the field", () => {
    expect(() => config({ kickoffPrompt: "" })).toThrowError(/config\.kickoffPrompt/);
    expect(() => config({ apiBaseUrl: "not a url" })).toThrowError(/config\.apiBaseUrl/);
  });
});
