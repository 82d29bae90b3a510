import type { LaunchInfo } from "@optio/agents";
import { describe, expect, it } from "vitest";
import { openCodeCommand, openCodeFlags } from "./command.js";
import { parseOpenCodeConfig } from "./config.js";

const launch = (overrides: Partial<LaunchInfo> = {}): LaunchInfo => ({
  workdir: "/t/w",
  home: "/t/w/home",
  binaryPath: "/opt/bin/opencode",
  continueConversation: false,
  asRoot: false,
  ...overrides,
});

describe("openCodeCommand", () => {
  it("starts the TUI with no flags on a fresh start", () => {
    const command = openCodeCommand(parseOpenCodeConfig({}), launch());
    expect(command.argv).toEqual(["/opt/bin/opencode"]);
    expect(command.pathPrepend).toEqual(["/t/w/home/.local/bin"]);
  });

  it("continues the last session only when asked", () => {
    expect(openCodeCommand(parseOpenCodeConfig({}), launch({ continueConversation: true })).argv).toEqual([
      "/opt/bin/opencode",
      "--continue",
    ]);
    expect(openCodeFlags(false)).toEqual([]);
  });

  it("gives a fresh start its first message with --prompt, as one argument", () => {
    const firstMessage = "Read AGENTS.md and do it; it's 'quoted' and $HOME stays";
    expect(openCodeCommand(parseOpenCodeConfig({}), launch({ firstMessage })).argv).toEqual([
      "/opt/bin/opencode",
      "--prompt",
      firstMessage,
    ]);
  });

  it("drops the first message when continuing, which the TUI would ignore", () => {
    expect(openCodeFlags(true, "You were interrupted.")).toEqual(["--continue"]);
  });

  it("keeps opencode offline except for the endpoint when apiBaseUrl is set", () => {
    const env = openCodeCommand(parseOpenCodeConfig({ apiBaseUrl: "http://127.0.0.1:4000" }), launch()).env;
    expect(env).toMatchObject({
      OPENCODE_DISABLE_MODELS_FETCH: "1",
      npm_config_offline: "true",
      OPTIO_ANTHROPIC_BASE_URL: "http://127.0.0.1:4000/v1",
    });
    expect(openCodeCommand(parseOpenCodeConfig({}), launch()).env).not.toHaveProperty("npm_config_offline");
  });

  it("keeps every opencode dir inside HOME and its updater off", () => {
    expect(openCodeCommand(parseOpenCodeConfig({}), launch({ asRoot: true })).env).toEqual({
      XDG_DATA_HOME: "/t/w/home/.local/share",
      XDG_CONFIG_HOME: "/t/w/home/.config",
      XDG_STATE_HOME: "/t/w/home/.local/state",
      XDG_CACHE_HOME: "/t/w/home/.cache",
      TMPDIR: "/t/w/home/.cache/tmp",
      OPENCODE_DISABLE_AUTOUPDATE: "1",
    });
  });
});
