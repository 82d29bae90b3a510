import { describe, expect, it } from "vitest";
import { claudeCommand, claudeFlags, ROOT_SANDBOX_NOTICE } from "./command.js";
import { parseClaudeCodeConfig } from "./config.js";
import { claudeSessionId } from "./usage.js";

const launch = {
  workdir: "/w",
  home: "/w/home",
  binaryPath: "/opt/bin/claude",
  continueConversation: false,
  asRoot: false,
};

describe("claudeFlags", () => {
  it("passes the permission mode through", () => {
    expect(claudeFlags(parseClaudeCodeConfig({ permissionMode: "plan" }), false)).toEqual([
      "--permission-mode",
      "plan",
    ]);
  });

  it("comma-joins the tool lists", () => {
    const config = parseClaudeCodeConfig({
      allowedTools: ["Read", "Bash(git *)"],
      disallowedTools: ["WebFetch", "Edit"],
    });
    expect(claudeFlags(config, false)).toEqual([
      "--allowed-tools",
      "Read,Bash(git *)",
      "--disallowed-tools",
      "WebFetch,Edit",
    ]);
  });

  it("emits nothing for empty lists and an unset mode", () => {
    expect(claudeFlags(parseClaudeCodeConfig({ allowedTools: [], disallowedTools: [] }), false)).toEqual([]);
  });

  it("adds --continue only when continuing, and last", () => {
    const config = parseClaudeCodeConfig({ permissionMode: "acceptEdits", allowedTools: ["Read"] });
    expect(claudeFlags(config, false)).not.toContain("--continue");
    const flags = claudeFlags(config, true);
    expect(flags.at(-1)).toBe("--continue");
    expect(flags.filter((f) => f === "--continue")).toHaveLength(1);
  });
});

describe("claudeCommand", () => {
  it("runs the installed binary with an isolated config dir, the updater off and the home bin first on PATH", () => {
    const command = claudeCommand(parseClaudeCodeConfig({ disallowedTools: ["Bash"] }), {
      ...launch,
      continueConversation: true,
    });
    expect(command.argv).toEqual(["/opt/bin/claude", "--disallowed-tools", "Bash", "--continue"]);
    expect(command.env).toEqual({ CLAUDE_CONFIG_DIR: "/w/home/.claude", DISABLE_AUTOUPDATER: "1" });
    expect(command.pathPrepend).toEqual(["/w/home/.local/bin"]);
    expect(command.notices).toEqual([]);
  });

  it("as root with bypassPermissions sets IS_SANDBOX=1 and says so", () => {
    const command = claudeCommand(parseClaudeCodeConfig({ permissionMode: "bypassPermissions" }), {
      ...launch,
      asRoot: true,
    });
    expect(command.env.IS_SANDBOX).toBe("1");
    expect(command.notices).toEqual([ROOT_SANDBOX_NOTICE]);
    expect(ROOT_SANDBOX_NOTICE).toContain("IS_SANDBOX=1");
  });

  it("leaves IS_SANDBOX unset when not root, or when root without bypassPermissions", () => {
    for (const [mode, asRoot] of [
      ["bypassPermissions", false],
      ["acceptEdits", true],
      [undefined, true],
    ] as const) {
      const command = claudeCommand(parseClaudeCodeConfig({ permissionMode: mode }), { ...launch, asRoot });
      expect(command.env).not.toHaveProperty("IS_SANDBOX");
      expect(command.notices).toEqual([]);
    }
  });

  it("passes the first message as the positional prompt, after the options", () => {
    const config = parseClaudeCodeConfig({ allowedTools: ["Read", "Bash"] });
    const command = claudeCommand(config, {
      ...launch,
      continueConversation: true,
      firstMessage: "Read CLAUDE.md and do it",
    });
    expect(command.argv).toEqual([
      "/opt/bin/claude",
      "--allowed-tools",
      "Read,Bash",
      "--continue",
      "--",
      "Read CLAUDE.md and do it",
    ]);
  });

  it("points claude at apiBaseUrl and turns its other traffic off; nothing of the kind without it", () => {
    const command = claudeCommand(parseClaudeCodeConfig({ apiBaseUrl: "http://127.0.0.1:4000" }), launch);
    expect(command.env).toMatchObject({
      ANTHROPIC_BASE_URL: "http://127.0.0.1:4000",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    });
    const plain = claudeCommand(parseClaudeCodeConfig({}), launch);
    expect(plain.env).not.toHaveProperty("ANTHROPIC_BASE_URL");
    expect(plain.env).not.toHaveProperty("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC");
  });
});

describe("claudeCommand's session id", () => {
  it("starts a new conversation with the workdir's session id, and continues one without it", () => {
    const fresh = claudeCommand(parseClaudeCodeConfig({}), { ...launch, firstMessage: "go" });
    expect(fresh.argv).toEqual(["/opt/bin/claude", "--session-id", claudeSessionId("/w"), "--", "go"]);
    expect(claudeCommand(parseClaudeCodeConfig({}), { ...launch, continueConversation: true }).argv).toEqual([
      "/opt/bin/claude",
      "--continue",
    ]);
  });
});
