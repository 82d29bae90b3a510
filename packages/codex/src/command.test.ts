import type { LaunchInfo } from "@optio/agents";
import { describe, expect, it } from "vitest";
import { codexCommand, codexFlags } from "./command.js";
import { parseCodexConfig } from "./config.js";

const launch = (overrides: Partial<LaunchInfo> = {}): LaunchInfo => ({
  workdir: "/t/w",
  home: "/t/w/home",
  binaryPath: "/opt/bin/codex",
  continueConversation: false,
  asRoot: false,
  ...overrides,
});

describe("codexCommand", () => {
  it("starts the TUI without the shared server, its state in the task's HOME", () => {
    const command = codexCommand(parseCodexConfig({}), launch());
    expect(command.argv).toEqual(["/opt/bin/codex", "--no-daemon"]);
    expect(command.env).toEqual({ CODEX_HOME: "/t/w/home/.codex" });
    expect(command.pathPrepend).toEqual(["/t/w/home/.local/bin"]);
  });

  it("continues the last session with the resume subcommand only when asked", () => {
    expect(codexCommand(parseCodexConfig({}), launch({ continueConversation: true })).argv).toEqual([
      "/opt/bin/codex",
      "resume",
      "--last",
      "--no-daemon",
    ]);
    expect(codexFlags(false)).toEqual(["--no-daemon"]);
  });

  it("gives the first message as the prompt, one argument, fresh or continued", () => {
    const firstMessage = "Read AGENTS.md and do it; it's 'quoted' and $HOME stays";
    expect(codexFlags(false, firstMessage)).toEqual(["--no-daemon", firstMessage]);
    expect(codexFlags(true, firstMessage)).toEqual(["resume", "--last", "--no-daemon", firstMessage]);
  });

  it("points OpenAI's base URL (with its version) at apiBaseUrl, before the prompt", () => {
    const command = codexCommand(
      parseCodexConfig({ apiBaseUrl: "http://127.0.0.1:4000/" }),
      launch({ firstMessage: "go" }),
    );
    expect(command.argv).toEqual([
      "/opt/bin/codex",
      "--no-daemon",
      "-c",
      'openai_base_url="http://127.0.0.1:4000/v1"',
      "go",
    ]);
  });

  it("passes each codexOverrides setting as -c after the base URL, on a resumed start too", () => {
    const config = parseCodexConfig({
      apiBaseUrl: "http://127.0.0.1:4000",
      codexOverrides: ['approval_policy="never"', "features.plugins=false"],
    });
    expect(codexCommand(config, launch({ continueConversation: true })).argv).toEqual([
      "/opt/bin/codex",
      "resume",
      "--last",
      "--no-daemon",
      "-c",
      'openai_base_url="http://127.0.0.1:4000/v1"',
      "-c",
      'approval_policy="never"',
      "-c",
      "features.plugins=false",
    ]);
    expect(() => parseCodexConfig({ codexOverrides: ["no equals sign"] })).toThrowError(/codexOverrides/);
  });
});
