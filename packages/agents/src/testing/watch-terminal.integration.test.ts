import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileStateStore } from "../store/file-state-store.js";
import { createAgentTask } from "../task/agent-task.js";
import { createScriptedAdapter } from "./scripted-adapter.js";
import { watchTerminal } from "./watch-terminal.js";

let root: string;
let store: FileStateStore;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-watch-terminal-"));
  process.env.OPTIO_SCRIPTED_TASK_ROOT = join(root, "tasks");
  store = new FileStateStore({ dir: join(root, "state") });
});

afterAll(async () => {
  delete process.env.OPTIO_SCRIPTED_TASK_ROOT;
  await rm(root, { recursive: true, force: true });
});

const slowTask = (processId: string) =>
  createAgentTask(createScriptedAdapter(), {
    processId,
    name: "t",
    config: { supportsResume: false, env: { OPTIO_SCENARIO: "slow" } },
  });

describe("watchTerminal", () => {
  it("hands over the terminal's URL, returns what was seen, and cancels the task", async () => {
    const { seen, events, outcome } = await watchTerminal(slowTask("watched"), { store }, async (url) => url);
    expect(seen).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/t\/watched#token=/);
    expect(events.some((e) => e.type === "widget")).toBe(true);
    expect(outcome).toEqual({ status: "cancelled" });
  });

  it("rethrows what the look threw, only after the task is cancelled and torn down", async () => {
    const socket = join(root, "tasks", "failed-look", "tmux.sock");
    let runningWhenLooked = false;
    const error = await watchTerminal(slowTask("failed-look"), { store }, async () => {
      for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
      runningWhenLooked = existsSync(socket);
      throw new Error("the page never showed it");
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("the page never showed it");
    expect(runningWhenLooked).toBe(true);
    // Teardown removed the tmux socket: nothing of the agent is left running.
    expect(existsSync(socket)).toBe(false);
  });
});
