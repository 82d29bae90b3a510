import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore, type TaskEvent } from "@optio/agents";
import { guardRealDirs, watchTerminal, type RealDirsGuard } from "@optio/agents/testing";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClaudeCodeTask } from "./claude-code-task.js";
import { ROOT_SANDBOX_NOTICE } from "./command.js";
import type { ClaudeCodeTaskConfigInput } from "./config.js";
import { REAL_CLAUDE_DIRS, REAL_CLAUDE_VERSION } from "./test-context.js";

let browser: Browser;
let root: string;
let sshd: TestSshd;
let guard: RealDirsGuard;

async function until<T>(probe: () => Promise<T | undefined>, what: () => string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function screenShows(page: Page, needle: string): Promise<string> {
  let last = "";
  return until(
    async () => {
      last = await page
        .locator(".xterm-rows")
        .innerText()
        .catch(() => "");
      return last.includes(needle) ? last : undefined;
    },
    () => `the terminal page to show ${JSON.stringify(needle)}; it showed:\n${last}`,
    60_000,
  );
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-cc-real-"));
  guard = await guardRealDirs(REAL_CLAUDE_DIRS);
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });
  sshd = await startTestSshd();
});

afterAll(async () => {
  await browser?.close();
  await sshd?.stop();
  await guard?.release();
  await rm(root, { recursive: true, force: true });
});

/**
 * Runs a real claude session until its first screen is visible in Chromium,
 * types `/status` into it through the task, waits for claude's status panel,
 * then cancels it.
 */
async function firstScreen(
  processId: string,
  config: ClaudeCodeTaskConfigInput,
): Promise<{ text: string; status: string; events: TaskEvent[] }> {
  const store = new FileStateStore({ dir: join(root, `store-${processId}`) });
  const task = createClaudeCodeTask({
    processId,
    name: "real claude",
    config: {
      installDir: join(root, `bin-${processId}`),
      installStrategies: ["npm-registry"],
      agentVersion: REAL_CLAUDE_VERSION,
      // Run as root here: this also proves the IS_SANDBOX decision against the real binary.
      permissionMode: "bypassPermissions",
      supportsResume: false,
      ...config,
    },
  });
  const { seen, events, outcome } = await watchTerminal(task, { store }, async (url) => {
    const page = await browser.newPage();
    try {
      await page.goto(url);
      const first = await screenShows(page, "Claude Code");
      // As a consumer types into claude: a bracketed paste, then Enter.
      await task.sendText("/status", { submit: true });
      return { first, status: await screenShows(page, "Version:") };
    } finally {
      await page.close();
    }
  });
  const text = seen?.first ?? "";
  expect(text, `no terminal was published; outcome ${JSON.stringify(outcome)}`).toContain("Claude Code");
  expect(outcome.status).toBe("cancelled");
  return { text, status: seen?.status ?? "", events };
}

describe("the real claude in a session", () => {
  it("shows its first screen through the web terminal on this machine and takes a command typed through the task", {
    timeout: 600_000,
  }, async () => {
    const { text, status, events } = await firstScreen("real-local", {});
    expect(text).toMatch(/Claude Code v\d+\.\d+\.\d+/);
    expect(status).toMatch(new RegExp(`Version:\\s+${REAL_CLAUDE_VERSION.replaceAll(".", "\\.")}`));
    expect(text).not.toContain("cannot be used with root/sudo privileges");
    if (process.getuid?.() === 0) {
      expect(events).toContainEqual({ type: "report", level: "info", message: ROOT_SANDBOX_NOTICE });
    }
  });

  it("shows its first screen over SSH, the binary pushed over SFTP, and takes a command typed through the task", {
    timeout: 600_000,
  }, async () => {
    const cacheDir = join(root, "remote-cache");
    const { text, status, events } = await firstScreen("real-ssh", {
      ssh: sshd.sshConfig({ readyTimeoutMs: 60_000 }),
      installCacheDir: cacheDir,
    });
    expect(text).toMatch(/Claude Code v\d+\.\d+\.\d+/);
    expect(status).toMatch(new RegExp(`Version:\\s+${REAL_CLAUDE_VERSION.replaceAll(".", "\\.")}`));
    // A fresh host cache: the worker copied the binary to the host itself.
    expect(events.some((e) => e.type === "progress" && /^Copying .+ to the host/.test(e.message ?? ""))).toBe(true);
    expect((await stat(join(cacheDir, REAL_CLAUDE_VERSION, "claude"))).size).toBeGreaterThan(50_000_000);
  });

  it("leaves the real ~/.claude untouched", async () => {
    expect(await guard.changes()).toEqual([]);
  });
});
