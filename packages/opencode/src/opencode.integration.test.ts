import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore, type HookContext, type TaskEvent } from "@optio/agents";
import { shellCommand } from "@optio/host";
import { guardRealDirs, watchTerminal, type RealDirsGuard } from "@optio/agents/testing";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCodeEnv } from "./command.js";
import type { OpenCodeTaskConfigInput } from "./config.js";
import { createOpenCodeTask } from "./open-code-task.js";
import { REAL_OPENCODE_DIRS, REAL_OPENCODE_VERSION } from "./test-context.js";

// The real opencode from the npm registry, run by the generic session with an isolated HOME and watched through
// the web terminal in headless Chromium.

let guard: RealDirsGuard;
let browser: Browser;
let sshd: TestSshd;
let root: string;
const ROOT_VARS = ["OPTIO_OPENCODE_TASK_ROOT", "OPTIO_OPENCODE_REMOTE_TASK_ROOT"] as const;
let savedRoots: (string | undefined)[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-oc-session-"));
  // The default task roots are named after the adapter id, ~/.local/share/opencode and /tmp/opencode: the very
  // dirs opencode itself uses. Keep this test's task dirs in its temp root so the isolation check below sees
  // only what opencode did.
  savedRoots = ROOT_VARS.map((name) => process.env[name]);
  process.env.OPTIO_OPENCODE_TASK_ROOT = join(root, "tasks");
  process.env.OPTIO_OPENCODE_REMOTE_TASK_ROOT = join(root, "remote-tasks");
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
  await guard?.release();
  ROOT_VARS.forEach((name, i) => {
    const saved = savedRoots[i];
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  });
  await rm(root, { recursive: true, force: true });
});

async function screenShows(page: Page, needles: string[]): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await page
      .locator(".xterm-rows")
      .innerText()
      .catch(() => "");
    if (needles.every((n) => text.includes(n))) return text;
    if (Date.now() > deadline)
      throw new Error(`the terminal page did not show ${JSON.stringify(needles)}; it shows:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs a real opencode session until the needles are visible in Chromium, then cancels it. */
async function screenOf(
  processId: string,
  config: OpenCodeTaskConfigInput,
  needles: string[] = ["Ask anything", REAL_OPENCODE_VERSION],
  resume = false,
): Promise<{ text: string; events: TaskEvent[] }> {
  const store = new FileStateStore({ dir: join(root, `store-${processId}`) });
  const task = createOpenCodeTask({
    processId,
    name: "real opencode",
    config: {
      installDir: join(root, `bin-${processId}`),
      installStrategies: ["npm-registry"],
      agentVersion: REAL_OPENCODE_VERSION,
      // The models list ships inside the binary; fetching a fresh one would leave 127.0.0.1.
      env: { OPENCODE_DISABLE_MODELS_FETCH: "1" },
      supportsResume: false,
      ...config,
    },
  });
  const { seen, events, outcome } = await watchTerminal(task, { store, resume }, async (url) => {
    const page = await browser.newPage();
    try {
      await page.goto(url);
      return await screenShows(page, needles);
    } finally {
      await page.close();
    }
  });
  const text = seen ?? "";
  expect(text, `no terminal was published; outcome ${JSON.stringify(outcome)}`).toContain(needles[0]);
  expect(outcome.status).toBe("cancelled");
  return { text, events };
}

const firstScreen = (processId: string, config: OpenCodeTaskConfigInput) => screenOf(processId, config);

/** An opencode session export holding one user message, dated now (the TUI's --continue skips old sessions). */
function storedSession(workdir: string, text: string): string {
  const id = "ses_0000000000001optioResume";
  const now = Date.now();
  const message = {
    role: "user",
    time: { created: now },
    agent: "build",
    model: { providerID: "opencode", modelID: "big-pickle" },
    id: "msg_0000000000001optioResume",
    sessionID: id,
  };
  return JSON.stringify({
    info: {
      id,
      slug: "optio-resume",
      projectID: "global",
      directory: workdir,
      title: "optio resume",
      version: REAL_OPENCODE_VERSION,
      time: { created: now, updated: now },
    },
    messages: [
      {
        info: message,
        parts: [{ type: "text", text, id: "prt_0000000000001optioResume", sessionID: id, messageID: message.id }],
      },
    ],
  });
}

describe("the real opencode in a session", () => {
  it("shows its TUI through the web terminal on this machine", { timeout: 600_000 }, async () => {
    const { text } = await firstScreen("oc-real-local", {
      credentials: { anthropic: { type: "api", key: "sk-ant-not-a-real-key" } },
    });
    // The bottom line names the working directory: the task's workdir.
    expect(text).toContain("oc-real-local/workdir");
  });

  it("shows its TUI over SSH", { timeout: 600_000 }, async () => {
    const { text } = await firstScreen("oc-real-ssh", { ssh: sshd.sshConfig() });
    expect(text).toContain("oc-real-ssh/workdir");
  });

  it("resumes from its snapshot and continues the stored conversation", { timeout: 600_000 }, async () => {
    const processId = "oc-real-resume";
    const said = "hello from the first run";
    // The first run stores a conversation with the real binary, the way typing a prompt would, without a provider.
    const first = await screenOf(processId, {
      supportsResume: true,
      beforeExecute: async (hook: HookContext) => {
        const home = join(hook.workdir, "home");
        await hook.copyFile(new TextEncoder().encode(storedSession(hook.workdir, said)), join(home, "session.json"));
        await hook.runOnHost(shellCommand([join(home, ".local/bin/opencode"), "import", join(home, "session.json")]), {
          env: { HOME: home, ...openCodeEnv(home) },
        });
      },
    });
    expect(first.text).not.toContain(said);
    const second = await screenOf(processId, { supportsResume: true }, [said], true);
    expect(second.events.some((e) => e.type === "progress" && e.message === "Restoring the last snapshot…")).toBe(true);
  });

  it("left the real opencode dirs untouched and created none", async () => {
    expect(await guard.changes()).toEqual([]);
  });
});
