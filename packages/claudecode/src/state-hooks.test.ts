import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { claudeStateSource, stateHookCommand, withStateHooks } from "./state-hooks.js";

const input = (fields: Record<string, unknown>) => JSON.stringify({ session_id: "s", cwd: "/w", ...fields });

describe("claude's state hooks", () => {
  it("append one line per run, the input's newlines removed, and print nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "optio-cc-hook-"));
    try {
      const file = join(dir, "state.log");
      const run = (stdin: string) =>
        execFileSync("sh", ["-c", stateHookCommand("Stop")], {
          input: stdin,
          env: { PATH: process.env.PATH, OPTIO_AGENT_STATE_FILE: file },
        }).toString();
      expect(run('{"hook_event_name":\n"Stop"}')).toBe("");
      expect(run("x".repeat(100_000))).toBe("");
      const lines = readFileSync(file, "utf8").split("\n");
      expect(lines[0]).toBe('Stop {"hook_event_name":"Stop"}');
      expect(lines[1]).toBe(`Stop ${"x".repeat(2048)}`);
      expect(lines[2]).toBe("");
      expect(
        execFileSync("sh", ["-c", `${stateHookCommand("Stop")}; echo $?`], {
          input: "{}",
          env: { PATH: process.env.PATH },
        }).toString(),
      ).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("read the events into states", () => {
    const parse = (line: string) => claudeStateSource.parse(line);
    expect(parse(`UserPromptSubmit ${input({ prompt: "go" })}`)).toEqual({ state: "working" });
    expect(parse(`PreToolUse ${input({ tool_name: "Bash", tool_input: { command: "ls" } })}`)).toEqual({
      state: "working",
      message: "Bash",
    });
    expect(
      parse(`PermissionRequest ${input({ tool_name: "Bash", tool_input: { command: "touch proof.txt" } })}`),
    ).toEqual({
      state: "waiting-permission",
      message: "Bash: touch proof.txt",
    });
    expect(
      parse(`Notification ${input({ notification_type: "idle_prompt", message: "Claude is waiting for your input" })}`),
    ).toEqual({
      state: "waiting-input",
      message: "Claude is waiting for your input",
    });
    expect(parse(`Notification ${input({ notification_type: "auth_success" })}`)).toBeNull();
    expect(parse(`Stop ${input({ last_assistant_message: "I stop here." })}`)).toEqual({
      state: "idle",
      message: "I stop here.",
    });
    expect(parse(`SessionEnd ${input({ reason: "other" })}`)).toEqual({ state: "exited", message: "other" });
    expect(parse("DONE: forged")).toBeNull();
  });

  it("read the fields of an input cut short", () => {
    const cut = input({ tool_name: "Write", tool_input: { file_path: "a.txt", content: "y".repeat(5000) } }).slice(
      0,
      2048,
    );
    expect(claudeStateSource.parse(`PermissionRequest ${cut}`)).toEqual({
      state: "waiting-permission",
      message: "Write",
    });
  });

  it("are added once, after the consumer's", () => {
    const once = withStateHooks({ hooks: { Stop: [{ hooks: [{ type: "command", command: "mine" }] }] } });
    expect(withStateHooks(once)).toEqual(once);
    expect((once.hooks as Record<string, unknown[]>).Stop).toHaveLength(2);
  });
});
