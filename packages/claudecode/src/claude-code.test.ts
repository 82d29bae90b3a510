import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claudeCode, createClaudeCode } from "./claude-code.js";
import { claudeCodeConfigSchema } from "./config.js";
import { CLAUDE_SEED_MANIFEST } from "./seed-manifest.js";

describe("claudeCode adapter", () => {
  it("describes Claude Code", () => {
    expect(claudeCode).toMatchObject({
      specificationVersion: "agent-v1",
      id: "claudecode",
      displayName: "Claude Code",
      instructionsFile: "CLAUDE.md",
      browser: "redirect",
      configSchema: claudeCodeConfigSchema,
      seed: CLAUDE_SEED_MANIFEST,
    });
    expect(claudeCode.resume.privatePaths).toEqual(["home/.claude", "home/.claude.json"]);
    expect(claudeCode.resume.regenerablePaths).toEqual(["home/.local/share/claude", "home/.cache", "home/.npm"]);
  });

  it("takes the browser mode from its options", () => {
    expect(createClaudeCode({ browser: "suppress" }).browser).toBe("suppress");
    expect(createClaudeCode().browser).toBe("redirect");
  });
});

describe("resume.canContinue", () => {
  let ctx: AdapterTestContext;
  beforeEach(async () => {
    ctx = await adapterTestContext();
  });
  afterEach(async () => {
    await ctx.dispose();
  });

  it("is false without a transcript, even when the projects dir exists", async () => {
    expect(await claudeCode.resume.canContinue(ctx)).toBe(false);
    await ctx.host.mkdir(join(ctx.home, ".claude/projects/-w"), { mode: 0o700 });
    await ctx.host.writeText(join(ctx.home, ".claude/projects/-w/notes.txt"), "x");
    expect(await claudeCode.resume.canContinue(ctx)).toBe(false);
  });

  it("is true once a *.jsonl transcript exists under home/.claude/projects", async () => {
    await ctx.host.mkdir(join(ctx.home, ".claude/projects/-tmp-w"), { mode: 0o700 });
    await ctx.host.writeText(join(ctx.home, ".claude/projects/-tmp-w/4b1f.jsonl"), '{"type":"user"}\n');
    expect(await claudeCode.resume.canContinue(ctx)).toBe(true);
  });
});
