import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CLAUDE_SEED_MANIFEST, rekeyProjects } from "./seed-manifest.js";

let ctx: AdapterTestContext;
beforeEach(async () => {
  ctx = await adapterTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

describe("CLAUDE_SEED_MANIFEST", () => {
  it("holds the login, settings, plugins and global config, and no transcripts", () => {
    expect(CLAUDE_SEED_MANIFEST.include).toEqual([
      "home/.claude/.credentials.json",
      "home/.claude/settings.json",
      "home/.claude/plugins",
      "home/.claude/.claude.json",
      "home/.claude.json",
    ]);
    expect(CLAUDE_SEED_MANIFEST.include.some((p) => p.includes("projects"))).toBe(false);
  });

  it("re-keys several project entries into one for the new workdir, merged", async () => {
    const file = join(ctx.home, ".claude/.claude.json");
    await ctx.host.mkdir(join(ctx.home, ".claude"), { mode: 0o700 });
    const before = {
      oauthAccount: { emailAddress: "a@b.c" },
      projects: {
        "/old/one/workdir": { hasTrustDialogAccepted: true, allowedTools: ["Read"] },
        "/old/two/workdir": { mcpServers: { x: {} }, allowedTools: ["Edit"] },
      },
    };
    await ctx.host.writeText(file, JSON.stringify(before));
    await CLAUDE_SEED_MANIFEST.consume?.(ctx);
    const after = JSON.parse(await readFile(file, "utf8"));
    expect(after.oauthAccount).toEqual(before.oauthAccount);
    expect(after.projects).toEqual({
      [ctx.workdir]: { hasTrustDialogAccepted: true, allowedTools: ["Edit"], mcpServers: { x: {} } },
    });
  });

  it("re-keys ~/.claude.json too", async () => {
    const file = join(ctx.home, ".claude.json");
    await ctx.host.writeText(file, JSON.stringify({ projects: { "/old": { hasTrustDialogAccepted: true } } }));
    await CLAUDE_SEED_MANIFEST.consume?.(ctx);
    expect(JSON.parse(await readFile(file, "utf8")).projects).toEqual({
      [ctx.workdir]: { hasTrustDialogAccepted: true },
    });
  });

  it("leaves a missing or malformed file as it is", async () => {
    await expect(CLAUDE_SEED_MANIFEST.consume?.(ctx)).resolves.toBeUndefined();
    const file = join(ctx.home, ".claude.json");
    await ctx.host.writeText(file, "{not json");
    await CLAUDE_SEED_MANIFEST.consume?.(ctx);
    expect(await readFile(file, "utf8")).toBe("{not json");
  });
});

describe("rekeyProjects", () => {
  it("lets the current workdir's own entry win and leaves a config without projects alone", () => {
    const config = { projects: { "/w": { a: 1, b: 1 }, "/old": { a: 2, c: 2 } } };
    expect(rekeyProjects(config, "/w")).toEqual({
      projects: { "/w": { a: 1, b: 1, c: 2, hasTrustDialogAccepted: true } },
    });
    const plain = { numStartups: 1 };
    expect(rekeyProjects(plain, "/w")).toBe(plain);
  });
});
