import { adapterTestContext, guardRealDirs, type AdapterTestContext, type RealDirsGuard } from "@optio/agents/testing";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  closeSharedTerminalServer,
  publishTerminal,
  readScreen,
  startTmuxSession,
  stopTmuxSession,
  type TmuxSession,
} from "@optio/agents/terminal";
import { envAssignments, shellCommand } from "@optio/host";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCodeCommand } from "./command.js";
import { parseOpenCodeConfig, type OpenCodeTaskConfigInput } from "./config.js";
import { installOpenCode } from "./install.js";
import { plantOpenCodeHome } from "./plant.js";
import { REAL_OPENCODE_DIRS, REAL_OPENCODE_VERSION } from "./test-context.js";

// The adapter's own pieces (install, plant, command) against the real opencode, launched in a private tmux
// server the way a session launches an agent, and watched through the real web terminal in Chromium.

let guard: RealDirsGuard;
let browser: Browser;
let sshd: TestSshd;

beforeAll(async () => {
  guard = await guardRealDirs(REAL_OPENCODE_DIRS);
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  sshd = await startTestSshd();
});

afterAll(async () => {
  await browser?.close();
  await sshd?.stop();
  await closeSharedTerminalServer();
  await guard?.release();
});

/** Installs, plants and launches the real opencode in tmux; returns its screen as Chromium shows it. */
async function showTui(ctx: AdapterTestContext, input: OpenCodeTaskConfigInput): Promise<string> {
  const config = parseOpenCodeConfig({
    installDir: join(ctx.root, "bin"),
    installStrategies: ["npm-registry"],
    agentVersion: REAL_OPENCODE_VERSION,
    ...input,
  });
  const installed = await installOpenCode(ctx, config);
  expect(installed.version).toBe(REAL_OPENCODE_VERSION);
  await plantOpenCodeHome(ctx, config);
  const command = openCodeCommand(config, {
    workdir: ctx.workdir,
    home: ctx.home,
    binaryPath: installed.binaryPath,
    continueConversation: false,
    asRoot: process.getuid?.() === 0,
  });
  // The models list ships inside the binary; fetching a fresh one would leave 127.0.0.1.
  const env = {
    ...command.env,
    HOME: ctx.home,
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    TERM: "xterm-256color",
    PATH: [...(command.pathPrepend ?? []), "/usr/local/bin:/usr/bin:/bin"].join(":"),
  };
  const session: TmuxSession = { socket: join(ctx.host.taskDir, "tmux.sock"), name: "optio" };
  await startTmuxSession(
    ctx.host,
    session,
    `env ${envAssignments(env).join(" ")} ${shellCommand(command.argv)}`,
    ctx.workdir,
  );
  const terminal = await publishTerminal(`oc-${randomBytes(4).toString("hex")}`, { host: ctx.host, session });
  const page = await browser.newPage();
  try {
    await page.goto(terminal.url);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const text = await page
        .locator(".xterm-rows")
        .innerText()
        .catch(() => "");
      if (text.includes("Ask anything") && text.includes(ctx.workdir)) return text;
      if (Date.now() > deadline)
        throw new Error(`opencode's TUI did not appear; tmux shows:\n${await readScreen(ctx.host, session)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await page.close();
    await terminal.close();
    // The whole tree, waited for: the task dir is removed next.
    await stopTmuxSession(ctx.host, session);
  }
}

describe("the real opencode, launched from the adapter's command", () => {
  it("paints its TUI through the web terminal on this machine, with its state in the task's HOME", {
    timeout: 600_000,
  }, async () => {
    const ctx = await adapterTestContext({ processId: `real-tui-${randomBytes(3).toString("hex")}` });
    try {
      const text = await showTui(ctx, {
        credentials: { anthropic: { type: "api", key: "sk-ant-not-a-real-key" } },
        opencodeConfig: { autoupdate: false },
      });
      expect(text).toContain(REAL_OPENCODE_VERSION);
      expect(existsSync(join(ctx.home, ".local/share/opencode/opencode.db"))).toBe(true);
      expect(existsSync(join(ctx.home, ".local/state/opencode"))).toBe(true);
      expect(existsSync(join(ctx.home, ".cache/tmp/opencode"))).toBe(true);
      expect(JSON.parse(await readFile(join(ctx.home, ".local/share/opencode/auth.json"), "utf8"))).toEqual({
        anthropic: { type: "api", key: "sk-ant-not-a-real-key" },
      });
    } finally {
      await ctx.dispose();
    }
  });

  it("paints its TUI over SSH", { timeout: 600_000 }, async () => {
    const ctx = await adapterTestContext({
      processId: `real-tui-ssh-${randomBytes(3).toString("hex")}`,
      ssh: sshd.sshConfig(),
    });
    try {
      expect(ctx.host.kind).toBe("remote");
      expect(await showTui(ctx, {})).toContain("Ask anything");
    } finally {
      await ctx.dispose();
    }
  });

  it("left the real opencode dirs untouched and created none", async () => {
    expect(await guard.changes()).toEqual([]);
  });
});
