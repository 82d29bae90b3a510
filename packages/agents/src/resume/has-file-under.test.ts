import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AdapterTestContext, adapterTestContext } from "../testing/adapter-test-context.js";
import { hasFileUnder } from "./has-file-under.js";

let ctx: AdapterTestContext;
beforeEach(async () => {
  ctx = await adapterTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

describe("hasFileUnder", () => {
  it("is false for a missing dir and for one with no file of that name", async () => {
    const dir = join(ctx.home, "sessions");
    expect(await hasFileUnder(ctx, dir, { name: "*.jsonl" })).toBe(false);
    await mkdir(join(dir, "a", "b.jsonl"), { recursive: true });
    await writeFile(join(dir, "a", "notes.txt"), "x");
    expect(await hasFileUnder(ctx, dir, { name: "*.jsonl" })).toBe(false);
  });

  it("finds a regular file by name at any depth, not a link to one", async () => {
    const dir = join(ctx.home, "it's here");
    await mkdir(join(dir, "2026", "12"), { recursive: true });
    await writeFile(join(ctx.home, "outside.jsonl"), "{}\n");
    await symlink(join(ctx.home, "outside.jsonl"), join(dir, "link.jsonl"));
    expect(await hasFileUnder(ctx, dir, { name: "*.jsonl" })).toBe(false);
    await writeFile(join(dir, "2026", "12", "t.jsonl"), "{}\n");
    expect(await hasFileUnder(ctx, dir, { name: "*.jsonl" })).toBe(true);
  });

  it("with `containing`, counts only a file holding that text, taken literally", async () => {
    const dir = join(ctx.home, "sessions");
    const query = { name: "rollout-*.jsonl", containing: `"type":"UserMessage" $HOME 'x'` };
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "rollout-1.jsonl"), `{"type":"UserMessage"} $HOME 'x'\n`);
    await writeFile(join(dir, "other.jsonl"), `"type":"UserMessage" $HOME 'x'\n`);
    expect(await hasFileUnder(ctx, dir, query)).toBe(false);
    await writeFile(join(dir, "rollout-2.jsonl"), `{"a":1,"type":"UserMessage" $HOME 'x'}\n`);
    expect(await hasFileUnder(ctx, dir, query)).toBe(true);
  });
});
