import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openCodeTurnsSettled, openCodeUsageCommand, parseOpenCodeUsage } from "./usage.js";

const row = (id: string, data: Record<string, unknown>) => ({ id, data: JSON.stringify(data) });
const finished = {
  role: "assistant",
  cost: 0.0036,
  tokens: { total: 1060, input: 700, output: 40, reasoning: 5, cache: { write: 20, read: 300 } },
  modelID: "claude-sonnet-4-6",
  providerID: "anthropic",
  time: { created: 1, completed: 2 },
};

describe("parseOpenCodeUsage", () => {
  it("reads each assistant message's tokens, cost and model", () => {
    expect(parseOpenCodeUsage(JSON.stringify([row("msg_1", finished)]))).toEqual([
      {
        id: "msg_1",
        model: "anthropic/claude-sonnet-4-6",
        inputTokens: 700,
        outputTokens: 45,
        cacheReadTokens: 300,
        cacheWriteTokens: 20,
        costUsd: 0.0036,
      },
    ]);
  });

  it("skips a message whose call is under way (no tokens yet), rows it cannot read, and no rows at all", () => {
    const started = {
      ...finished,
      cost: 0,
      tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } },
    };
    expect(
      parseOpenCodeUsage(JSON.stringify([row("msg_2", started), { id: "msg_3", data: "{not json" }, { id: 4 }])),
    ).toEqual([]);
    expect(parseOpenCodeUsage("")).toEqual([]);
  });
});

describe("openCodeTurnsSettled", () => {
  it("is true once every assistant message is completed", () => {
    const underWay = { ...finished, time: { created: 3 } };
    expect(openCodeTurnsSettled(JSON.stringify([row("msg_1", finished)]))).toBe(true);
    expect(openCodeTurnsSettled(JSON.stringify([row("msg_1", finished), row("msg_2", underWay)]))).toBe(false);
    expect(openCodeTurnsSettled("")).toBe(true);
  });
});

describe("openCodeUsageCommand", () => {
  it("reads the assistant messages of the store under the task's HOME with sqlite3, and fails quietly before it exists", async () => {
    const home = await mkdtemp(join(tmpdir(), "optio-opencode-usage-"));
    try {
      const where = { workdir: home, home };
      const missing = await run(openCodeUsageCommand(where));
      expect(missing).toMatchObject({ code: 1, stdout: "" });
      await mkdir(join(home, ".local/share/opencode"), { recursive: true });
      const user = JSON.stringify({ role: "user", tokens: { input: 99 } }).replaceAll("'", "''");
      const sql = `create table message (id text primary key, session_id text, data text not null); insert into message values ('msg_u', 's', '${user}'), ('msg_1', 's', '${JSON.stringify(finished)}');`;
      await run(`sqlite3 ${join(home, ".local/share/opencode/opencode.db")} "${sql.replaceAll('"', '\\"')}"`);
      const read = await run(openCodeUsageCommand(where));
      expect(read.code).toBe(0);
      expect(parseOpenCodeUsage(read.stdout)).toMatchObject([{ id: "msg_1", inputTokens: 700, costUsd: 0.0036 }]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

function run(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("sh", ["-c", command], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
