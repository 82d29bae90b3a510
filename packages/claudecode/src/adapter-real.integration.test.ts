import { adapterTestContext, guardRealDirs, type AdapterTestContext, type RealDirsGuard } from "@optio/agents/testing";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { AgentCommand } from "@optio/agents";
import { stopTmuxSession } from "@optio/agents/terminal";
import { envAssignments, shellCommand, shellQuote } from "@optio/host";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { claudeCommand, ROOT_SANDBOX_NOTICE } from "./command.js";
import { parseClaudeCodeConfig, type ClaudeCodeTaskConfigInput } from "./config.js";
import { installClaude } from "./install.js";
import { plantClaudeHome } from "./plant.js";
import { REAL_CLAUDE_DIRS, REAL_CLAUDE_VERSION } from "./test-context.js";

// The adapter's own pieces (install, plant, command) against the real binary, launched the way a session
// launches an agent: in a private tmux server, HOME isolated. The full session is covered in claude-code.integration.test.ts.

let guard: RealDirsGuard;
beforeAll(async () => {
  guard = await guardRealDirs(REAL_CLAUDE_DIRS);
});
afterAll(async () => {
  await guard?.release();
});

let ctx: AdapterTestContext;
let socket: string;
beforeEach(async () => {
  ctx = await adapterTestContext({ processId: `real-${randomBytes(3).toString("hex")}` });
  socket = join(ctx.root, "tmux.sock");
});
afterEach(async () => {
  // The whole tree first: claude may still be cloning its plugin marketplace into the home being removed.
  await stopTmuxSession(ctx.host, { socket, name: "optio" });
  await ctx.dispose();
});

async function launch(input: ClaudeCodeTaskConfigInput, asRoot: boolean): Promise<AgentCommand> {
  const config = parseClaudeCodeConfig({
    installDir: join(ctx.root, "bin"),
    installStrategies: ["npm-registry"],
    agentVersion: REAL_CLAUDE_VERSION,
    ...input,
  });
  const installed = await installClaude(ctx, config);
  await plantClaudeHome(ctx, config);
  const command = claudeCommand(config, {
    workdir: ctx.workdir,
    home: ctx.home,
    binaryPath: installed.binaryPath,
    continueConversation: false,
    asRoot,
  });
  const env = {
    ...command.env,
    HOME: ctx.home,
    PATH: [...(command.pathPrepend ?? []), process.env.PATH ?? "/usr/bin:/bin"].join(":"),
  };
  const line = `cd ${shellQuote(ctx.workdir)} && env ${envAssignments(env).join(" ")} ${shellCommand(command.argv)}; echo "claude exited $?"; sleep 600`;
  await ctx.host.runChecked(
    shellCommand(["tmux", "-S", socket, "new-session", "-d", "-x", "160", "-y", "45", "-s", "optio", line]),
  );
  return command;
}

async function screenWith(needle: string | RegExp): Promise<string> {
  const deadline = Date.now() + 60_000;
  let screen = "";
  while (Date.now() < deadline) {
    screen = (await ctx.host.runCommand(shellCommand(["tmux", "-S", socket, "capture-pane", "-p", "-t", "optio"])))
      .stdout;
    if (typeof needle === "string" ? screen.includes(needle) : needle.test(screen)) return screen;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the screen never showed ${String(needle)}; last screen:\n${screen}`);
}

describe("the real claude with the adapter's planted home", () => {
  it("starts straight at its prompt: no onboarding, no folder-trust or bypass confirmation", {
    timeout: 300_000,
  }, async () => {
    const command = await launch({ permissionMode: "bypassPermissions" }, process.getuid?.() === 0);
    const screen = await screenWith(/bypass permissions on/);
    expect(screen).toContain(`Claude Code v${REAL_CLAUDE_VERSION}`);
    expect(screen).toContain(ctx.workdir);
    expect(screen).not.toMatch(/trust this folder|Yes, I accept|Choose the text style/);
    if (process.getuid?.() === 0) expect(command.notices).toEqual([ROOT_SANDBOX_NOTICE]);
  });

  it.runIf(process.getuid?.() === 0)(
    "as root, without IS_SANDBOX, refuses bypassPermissions at once (why the adapter sets it)",
    { timeout: 300_000 },
    async () => {
      const command = await launch({ permissionMode: "bypassPermissions" }, false);
      expect(command.env).not.toHaveProperty("IS_SANDBOX");
      const screen = await screenWith("claude exited");
      expect(screen).toContain("cannot be used with root/sudo privileges");
      expect(screen).toContain("claude exited 1");
    },
  );

  it("kept all of its state in the task's HOME; the real ~/.claude is untouched", async () => {
    expect(await guard.changes()).toEqual([]);
  });
});
