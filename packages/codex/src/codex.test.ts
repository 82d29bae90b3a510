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
  const day = ".codex/sessions/2026/12/07";
  const rollout = (lines: object[]) =>
    writeFile(
      join(ctx.home, day, "rollout-2026-12-07T17-00-00-abc.jsonl"),
      lines.map((l) => `${JSON.stringify(l)}\n`).join(""),
    );
  const meta = { type: "session_meta", payload: { id: "abc", cwd: "/t/w" } };

  it("is false with no sessions dir, or one without a recorded conversation", async () => {
    expect(await codex.resume.canContinue(ctx)).toBe(false);
    await mkdir(join(ctx.home, day), { recursive: true });
    await writeFile(join(ctx.home, day, "notes.txt"), "x");
    expect(await codex.resume.canContinue(ctx)).toBe(false);
  });

  it("is false for a rollout Codex wrote before any message was sent", async () => {
    await mkdir(join(ctx.home, day), { recursive: true });
    await rollout([meta, { type: "event_msg", payload: { type: "task_started" } }]);
    expect(await codex.resume.canContinue(ctx)).toBe(false);
  });

  it("is true once a rollout holds a user's message", async () => {
    await mkdir(join(ctx.home, day), { recursive: true });
    await rollout([
      meta,
      { type: "event_msg", payload: { type: "item_completed", item: { type: "UserMessage", id: "u1" } } },
    ]);
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
