import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore, type AgentTask, type TaskEvent } from "@optio/agents";
import { guardRealDirs, taskRootsIn, watchTerminal, type RealDirsGuard } from "@optio/agents/testing";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codex } from "./codex.js";
import { createCodexTask } from "./codex-task.js";
import type { CodexTaskConfigInput } from "./config.js";
import { LOCAL_ONLY, REAL_CODEX_DIRS, REAL_CODEX_VERSION } from "./test-context.js";

// The real Codex from the npm registry, run by the generic session with its own CODEX_HOME and watched through
// the web terminal in headless Chromium.

let guard: RealDirsGuard;
let browser: Browser;
let sshd: TestSshd;
let root: string;
let restoreRoots: () => void;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-codex-session-"));
  restoreRoots = taskRootsIn(codex.id, root);
  guard = await guardRealDirs(REAL_CODEX_DIRS);
  const quiet = ["--disable-background-networking", "--disable-component-update", "--disable-sync"];
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", ...quiet],
  });
  sshd = await startTestSshd();
});

afterAll(async () => {
  await Promise.all([browser?.close(), sshd?.stop(), guard?.release()]);
  restoreRoots?.();
  await rm(root, { recursive: true, force: true });
});

interface Watch {
  resume?: boolean;
  /** Runs once the needles show, with the task and the open page; the task is cancelled after it. */
  act?: (task: AgentTask, page: Page) => Promise<void>;
}

const showing = (page: Page, needles: string[]) =>
  page.waitForFunction(
    (wanted) => wanted.every((n) => document.querySelector(".xterm-rows")?.textContent?.includes(n)),
    needles,
    { timeout: 90_000, polling: 200 },
  );

/** Runs a real Codex session until the needles are on its terminal page in Chromium (Codex takes seconds to paint), then cancels it. */
async function screenOf(
  processId: string,
  config: CodexTaskConfigInput,
  needles: string[],
  watch: Watch = {},
): Promise<{ text: string; events: TaskEvent[] }> {
  const base = {
    installDir: join(root, `bin-${processId}`),
    installStrategies: ["npm-registry"],
    agentVersion: REAL_CODEX_VERSION,
    supportsResume: false,
  } satisfies CodexTaskConfigInput;
  const task = createCodexTask({ processId, name: "real codex", config: { ...base, ...LOCAL_ONLY, ...config } });
  const store = new FileStateStore({ dir: join(root, `store-${processId}`) });
  const watched = await watchTerminal(task, { store, resume: watch.resume }, async (url) => {
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await showing(page, needles);
      const text = await page.locator(".xterm-rows").innerText();
      await watch.act?.(task, page);
      return text;
    } finally {
      await page.close();
    }
  });
  expect(watched.seen, `no terminal was published; outcome ${JSON.stringify(watched.outcome)}`).toBeDefined();
  expect(watched.outcome.status).toBe("cancelled");
  return { text: watched.seen ?? "", events: watched.events };
}

const SIGN_IN = ["Welcome to Codex", "Sign in with ChatGPT"];

describe("the real Codex in a session", () => {
  it("shows its sign-in screen through the web terminal on this machine", { timeout: 600_000 }, async () => {
    await screenOf("codex-real-local", {}, SIGN_IN);
  });

  it("shows its sign-in screen over SSH", { timeout: 600_000 }, async () => {
    await screenOf("codex-real-ssh", { ssh: sshd.sshConfig() }, SIGN_IN);
  });

  it("resumes from its snapshot with resume --last and shows the recorded conversation", {
    timeout: 600_000,
  }, async () => {
    const processId = "codex-real-resume";
    const said = "hello from the first run";
    // A key (not a real one) opens the composer; the turn fails at once against the closed local port, after Codex recorded it.
    const config = {
      supportsResume: true,
      credentials: { OPENAI_API_KEY: "sk-not-a-real-key" },
      codexConfigToml: `${LOCAL_ONLY.codexConfigToml}\ndisable_paste_burst = true`,
    };
    await screenOf(processId, config, ["Ask Codex"], {
      act: async (task, page) => {
        await task.sendText(said, { submit: true });
        await showing(page, ["Connection refused"]);
      },
    });
    const second = await screenOf(processId, config, [said], { resume: true });
    expect(second.events.some((e) => e.type === "progress" && e.message === "Restoring the last snapshot…")).toBe(true);
  });

  it("left the real ~/.codex untouched and created none", async () => {
    expect(await guard.changes()).toEqual([]);
  });
});
