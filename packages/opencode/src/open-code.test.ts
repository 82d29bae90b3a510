import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openCodeConfigSchema } from "./config.js";
import { createOpenCode, openCode } from "./open-code.js";
import { OPENCODE_SEED_MANIFEST } from "./seed-manifest.js";
import { FAKE_OPENCODE } from "./test-context.js";

describe("openCode adapter", () => {
  it("describes opencode", () => {
    expect(openCode).toMatchObject({
      specificationVersion: "agent-v1",
      id: "opencode",
      displayName: "opencode",
      instructionsFile: "AGENTS.md",
      browser: "redirect",
      configSchema: openCodeConfigSchema,
      seed: OPENCODE_SEED_MANIFEST,
    });
    expect(openCode.resume.privatePaths).toEqual([
      "home/.local/share/opencode",
      "home/.config/opencode",
      "home/.local/state/opencode",
    ]);
    expect(openCode.resume.regenerablePaths).toEqual(["home/.cache"]);
  });

  it("takes the browser mode from its options", () => {
    expect(createOpenCode({ browser: "suppress" }).browser).toBe("suppress");
  });
});

describe("resume.canContinue", () => {
  let ctx: AdapterTestContext;
  const data = () => join(ctx.home, ".local/share/opencode");
  beforeEach(async () => {
    ctx = await adapterTestContext();
    await ctx.host.mkdir(join(ctx.home, ".local/bin"));
    await ctx.host.writeText(join(ctx.home, ".local/bin/opencode"), FAKE_OPENCODE, { mode: 0o755 });
  });
  afterEach(async () => {
    await ctx.dispose();
  });

  it("is false without opencode's database, without asking the binary", async () => {
    await ctx.host.mkdir(data());
    await ctx.host.writeText(join(data(), "sessions.json"), '[{"id":"ses_1"}]');
    expect(await openCode.resume.canContinue(ctx)).toBe(false);
  });

  it("is false when the database exists but holds no session", async () => {
    await ctx.host.mkdir(data());
    await ctx.host.writeText(join(data(), "opencode.db"), "");
    expect(await openCode.resume.canContinue(ctx)).toBe(false);
    await ctx.host.writeText(join(data(), "sessions.json"), "[]");
    expect(await openCode.resume.canContinue(ctx)).toBe(false);
  });

  it("is true once opencode lists a stored session", async () => {
    await ctx.host.mkdir(data());
    await ctx.host.writeText(join(data(), "opencode.db"), "");
    await ctx.host.writeText(join(data(), "sessions.json"), JSON.stringify([{ id: "ses_1", directory: ctx.workdir }]));
    expect(await openCode.resume.canContinue(ctx)).toBe(true);
  });

  it("is false when the binary cannot run", async () => {
    await ctx.host.mkdir(data());
    await ctx.host.writeText(join(data(), "opencode.db"), "");
    await ctx.host.remove(join(ctx.home, ".local/bin/opencode"));
    expect(await openCode.resume.canContinue(ctx)).toBe(false);
  });
});
