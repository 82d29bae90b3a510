import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codex } from "./codex.js";
import { createCodexTask } from "./codex-task.js";
import { parseCodexConfig } from "./config.js";

let ctx: AdapterTestContext;
beforeEach(async () => {
  ctx = await adapterTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

describe("codex.resume.canContinue", () => {
  it("is false with no sessions dir, or one without a recorded conversation", async () => {
    expect(await codex.resume.canContinue(ctx)).toBe(false);
    await mkdir(join(ctx.home, ".codex/sessions/2026/12/07"), { recursive: true });
    await writeFile(join(ctx.home, ".codex/sessions/2026/12/07/notes.txt"), "x");
    expect(await codex.resume.canContinue(ctx)).toBe(false);
  });

  it("is true once Codex recorded a rollout", async () => {
    await mkdir(join(ctx.home, ".codex/sessions/2026/12/07"), { recursive: true });
    await writeFile(join(ctx.home, ".codex/sessions/2026/12/07/rollout-2026-12-07T17-00-00-abc.jsonl"), "{}\n");
    expect(await codex.resume.canContinue(ctx)).toBe(true);
  });
});

describe("the adapter", () => {
  it("holds its id and builds a task from a config", () => {
    expect(codex.id).toBe("codex");
    expect(codex.resume.regenerablePaths).toEqual(["home/.codex/tmp", "home/.codex/.tmp"]);
    const task = createCodexTask({
      processId: "exports-1",
      name: "exports",
      config: { codexConfigToml: 'model = "o3"' },
    });
    expect(task).toMatchObject({ processId: "exports-1", name: "exports" });
    expect(() => parseCodexConfig({ codexVersion: "1" })).toThrowError(/codexVersion/);
  });
});

describe("codex.seed", () => {
  it("carries the login only, as a workdir path", () => {
    expect(codex.seed?.include).toEqual(["home/.codex/auth.json"]);
  });
});
