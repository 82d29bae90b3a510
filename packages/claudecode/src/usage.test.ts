import { describe, expect, it } from "vitest";
import { claudeProjectKey, claudeSessionId, claudeTranscriptPath, parseClaudeTranscriptLine } from "./usage.js";

function assistant(message: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: "assistant", uuid: "u-1", message, ...extra });
}

const usage = { input_tokens: 900, output_tokens: 60, cache_read_input_tokens: 12, cache_creation_input_tokens: 34 };

describe("claudeSessionId", () => {
  it("is a version 4 UUID, the same for a workdir and different for another", () => {
    const id = claudeSessionId("/tmp/optio-claudecode/t1/workdir");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(claudeSessionId("/tmp/optio-claudecode/t1/workdir")).toBe(id);
    expect(claudeSessionId("/tmp/optio-claudecode/t2/workdir")).not.toBe(id);
  });
});

describe("claudeTranscriptPath", () => {
  it("is the session's JSONL in the project dir claude names after the workdir", () => {
    expect(claudeProjectKey("/tmp/optio-claudecode/t_1.x/workdir")).toBe("-tmp-optio-claudecode-t-1-x-workdir");
    expect(claudeTranscriptPath({ workdir: "/w/x", home: "/w/x/home" })).toBe(
      `/w/x/home/.claude/projects/-w-x/${claudeSessionId("/w/x")}.jsonl`,
    );
  });
});

describe("parseClaudeTranscriptLine", () => {
  it("reads an assistant entry's model and usage, under the message's id", () => {
    expect(parseClaudeTranscriptLine(assistant({ id: "msg_1", model: "claude-x", usage }))).toEqual([
      { id: "msg_1", model: "claude-x", inputTokens: 900, outputTokens: 60, cacheReadTokens: 12, cacheWriteTokens: 34 },
    ]);
  });

  it("counts missing fields as zero and falls back to the entry's uuid without a message id", () => {
    expect(parseClaudeTranscriptLine(assistant({ model: "claude-x", usage: { input_tokens: 5 } }))).toEqual([
      { id: "u-1", model: "claude-x", inputTokens: 5, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    ]);
  });

  it("skips claude's synthetic entries, user entries, entries without usage and lines that are not JSON", () => {
    expect(parseClaudeTranscriptLine(assistant({ id: "msg_2", model: "<synthetic>", usage }))).toEqual([]);
    expect(
      parseClaudeTranscriptLine(JSON.stringify({ type: "user", message: { role: "user", content: "usage", usage } })),
    ).toEqual([]);
    expect(parseClaudeTranscriptLine(assistant({ id: "msg_3", model: "claude-x" }))).toEqual([]);
    expect(parseClaudeTranscriptLine('{"type":"assistant","usage"')).toEqual([]);
  });
});
